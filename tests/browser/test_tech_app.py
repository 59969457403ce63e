"""The technician's app at /app on a phone in Chromium: log in, the day, offline, sync, sign.

One browser context per test, few page loads: the app is one page that redraws itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.integration.builders import PASSWORD, Area, Builder, Person

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

# Screenshots go with the other browser tests' artefacts (kept by CI).
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "tech-app"
LOCALES = {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}

# What a technician with gloves would trip on: sideways scroll, cut-off text, tiny targets.
FIT = """() => {
  const width = window.innerWidth;
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => box(el).width > 0 && box(el).height > 0
    && getComputedStyle(el).visibility !== "hidden";
  const inside = (el) => box(el).left >= 0 && box(el).right <= width + 0.5;
  const texts = [...document.querySelectorAll("main h1, main h2, main p, main li")].filter(shown);
  const targets = [...document.querySelectorAll("button, a, select, textarea, input:not(.file)")]
    .filter(shown);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    cutOff: texts.filter((el) => !inside(el)).map((el) => el.textContent.slice(0, 40)),
    small: targets.filter((el) => box(el).height < 44 || box(el).width < 44)
      .map((el) => el.id || el.textContent.slice(0, 30)),
  };
}"""


@dataclass
class Day:
    """A technician with two visits today at one site (the first in progress)."""

    area: Area
    technician: Person
    visits: list[Any]


async def a_day(build: Builder) -> Day:
    area = await build.area()
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    visits = []
    for start, hours in ((now - timedelta(minutes=30), 3), (now + timedelta(hours=3), 2)):
        order = await build.order(area, status="scheduled")
        visits.append(await build.visit(order, technician.technician, start=start, hours=hours))
    return Day(area, technician, visits)


async def phone(
    browser: Browser, day: Day, width: int = 390, language: str = "ru"
) -> BrowserContext:
    """A phone standing at the visit's site, geolocation allowed."""
    site = day.area.point()
    return await browser.new_context(
        viewport={"width": width, "height": 800},
        locale=LOCALES[language],
        device_scale_factor=1,
        has_touch=True,
        geolocation={"latitude": site["lat"], "longitude": site["lon"], "accuracy": 8},
        permissions=["geolocation"],
    )


def watch(page: Page) -> list[str]:
    """Script errors and CSP refusals (console errors) the page shows."""
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
    return errors


async def log_in(page: Page, server: str, username: str) -> None:
    await page.goto(f"{server}/app/")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_selector("ol.visits")


async def fits(page: Page, label: str) -> None:
    fit: dict[str, Any] = await page.evaluate(FIT)
    assert fit["scrollWidth"] <= fit["innerWidth"], (label, fit)
    assert fit["cutOff"] == [], (label, fit)
    assert fit["small"] == [], (label, fit)


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True, scope="module")
def _shots_dir() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


async def test_log_in_and_see_the_day_then_open_it_offline(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    context = await phone(browser, day)
    page = await context.new_page()
    errors = watch(page)
    await log_in(page, live_server, day.technician.user.username)
    cards = page.locator("ol.visits > li")
    assert await cards.count() == 2
    first = cards.nth(0)
    # The agreed window in the site's local time (Almaty, UTC+5), the customer, the address.
    start = day.visits[0].agreed_window.lower + timedelta(hours=5)
    assert start.strftime("%H:%M") in await first.locator(".when").inner_text()
    assert await first.locator(".who").inner_text() == "Нұрланова Әлия"
    assert "пр. Абая, д. 10" in await first.locator(".where").inner_text()
    geo = await first.locator("a[href^='geo:']").get_attribute("href")
    site = day.area.point()
    assert geo is not None
    assert geo.startswith(f"geo:{site['lat']},{site['lon']}")
    assert "Asia/Almaty" in await page.locator(".zone").inner_text()
    await fits(page, "day 390")
    await shot(page, "day-ru-390")
    # The shell comes from the service worker, the day from IndexedDB: no network needed.
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await context.set_offline(True)
    await page.reload()
    await page.wait_for_selector("ol.visits")
    assert await page.locator("ol.visits > li").count() == 2
    assert await page.locator("#net").inner_text() == "Нет сети"
    await shot(page, "day-offline-ru-390")
    assert errors == []
    await context.close()
