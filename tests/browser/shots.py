"""Where browser tests keep their screenshots, and the look every staff page gets."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

from tests.browser.axe import serious_violations

SHARED = Path("/work/wt/shots")


def shots_dir(name: str, artifacts: Path) -> Path:
    """The shared screenshots folder ``name`` when this machine has one, else the artefacts."""
    if SHARED.is_dir():
        folder = SHARED / name
        folder.mkdir(exist_ok=True)
        return folder
    return artifacts


async def look(page: Page, width: int, path: Path) -> None:
    """No sideways scroll at ``width``, no serious axe finding, and a full-page screenshot."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, path.name
    assert await serious_violations(page) == [], path.name
    await page.screenshot(path=str(path), full_page=True)
