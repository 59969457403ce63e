"""The schedule board counts each technician's visits in words a dispatcher would write."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser

from service.common.actor import Role
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
ALMATY = ZoneInfo("Asia/Almaty")
# (one visit, two visits, none) under each technician's name.
COUNTS = {
    "en": ("1 visit", "2 visits", "0 visits"),
    "ru": ("1 визит", "2 визита", "0 визитов"),
    "kk": ("1 бару", "2 бару", "0 бару"),
}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ALMATY).astimezone(UTC)


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
async def test_the_schedule_says_1_visit_and_2_visits(
    browser: Browser, live_server: str, build: Builder, artifacts: Path, language: str
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    one, two, idle = [await build.technician_at(area, x, 0.5) for x in (0.3, 0.5, 0.7)]
    assert one.technician is not None
    assert two.technician is not None
    day = datetime.now(ALMATY).date() + timedelta(days=1)
    await build.visit(
        await build.order(area, status="scheduled"), one.technician, start=_at(day, 10)
    )
    for hour in (10, 14):
        order = await build.order(area, status="scheduled")
        await build.visit(order, two.technician, start=_at(day, hour), hours=2)

    widths = (1024, 1440) if language == "en" else (1024,)
    context = await browser.new_context(viewport={"width": widths[0], "height": 800})
    page = await context.new_page()
    try:
        path = f"/dispatch/schedule?territory={area.territory.code}&day={day.isoformat()}"
        query = urlencode({"lang": language, "next": path})
        await page.goto(f"{live_server}/staff/login?{query}")
        await page.fill("#username", dispatcher.user.username)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/dispatch/schedule?*")
        counts = []
        for tech in (one, two, idle):
            assert tech.technician is not None
            row = page.locator(f'.grid-row[data-technician="{tech.technician.id}"] .sub')
            counts.append(await row.inner_text())
        assert tuple(counts) == COUNTS[language]
        for width in widths:
            await page.set_viewport_size({"width": width, "height": 800})
            await page.screenshot(
                path=str(artifacts / f"schedule-counts-{language}-{width}.png"), full_page=True
            )
    finally:
        await context.close()
