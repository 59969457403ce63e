"""A phone in Chromium, shared by the technician's app and the customer's pages.

The browser context a phone user has (narrow viewport, touch, their locale, optionally standing
at a site), the errors a page shows (script errors, CSP refusals, failed loads) and a finger
drawing a signature on the signing pad.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, BrowserContext, Page

LOCALES = {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}


async def phone_context(
    browser: Browser,
    *,
    width: int = 390,
    language: str = "ru",
    scale: int = 1,
    at: dict[str, float] | None = None,
    **options: Any,
) -> BrowserContext:
    """A phone's browser context; ``at`` (lat, lon) puts it there with geolocation allowed."""
    if at is not None:
        options["geolocation"] = {"latitude": at["lat"], "longitude": at["lon"], "accuracy": 8}
        options["permissions"] = ["geolocation"]
    return await browser.new_context(
        viewport={"width": width, "height": 800},
        locale=LOCALES[language],
        device_scale_factor=scale,
        has_touch=True,
        **options,
    )


def watch(page: Page, *, failed_loads: bool = False) -> list[str]:
    """Script errors and CSP refusals (console errors) the page shows, and failed loads if asked.

    Chromium's own "Failed to load resource" console line is left out: with ``failed_loads``
    the response itself is recorded (status and address), the favicon excepted.
    """
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    if failed_loads:
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
    return errors


async def draw_signature(page: Page, *, strokes: int = 12, swing: float = 20) -> None:
    """A finger's zigzag across the signing pad (#pad), scrolled into view first."""
    pad = page.locator("#pad")
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    await page.mouse.down()
    for step in range(1, strokes):
        await page.mouse.move(
            box["x"] + 20 + step * (box["width"] - 40) / strokes,
            box["y"] + box["height"] / 2 + (-swing if step % 2 else swing),
            steps=3,
        )
    await page.mouse.up()
