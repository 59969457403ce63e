"""A supervisor sees, in the board's header area, that a calendar lacks the coming year."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser

from service.common.actor import Role
from service.db.base import utcnow
from service.db.models import BusinessCalendar, Holiday
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_missing_coming_year_notice_at_desk_sizes(
    browser: Browser, fresh_server: str, fresh_build: Builder, artifacts: Path
) -> None:
    # A server and a database of this test's own: the stale calendar shows on every
    # supervisor's board, so it must not reach the pages other tests look at.
    live_server, build = fresh_server, fresh_build
    year = utcnow().year
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    async with build.sessionmaker() as session:
        calendar = BusinessCalendar(
            code=f"KZ{uuid.uuid4().hex[:6].upper()}",
            name="Шымкент, сменный график",
            country="KZ",
            zones=[],
            hours=[{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)],
        )
        session.add(calendar)
        await session.flush()
        session.add(Holiday(calendar_id=calendar.id, day=date(year, 12, 16), name="Тәуелсіздік"))
        await session.commit()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{live_server}/board/login")
    await page.fill("#username", supervisor.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "ru")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/board")
    warning = page.locator(".calendar-warning")
    await warning.wait_for()
    shown = await warning.inner_text()
    assert f"Нет праздничного календаря на {year + 1} год" in shown
    assert calendar.code in shown
    assert await warning.evaluate("e => getComputedStyle(e).color") == "rgb(107, 74, 0)"
    await page.screenshot(path=str(artifacts / "board-calendar-warning-1280.png"))

    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.click('nav.langs a[hreflang="kk"]')
    await page.wait_for_function("document.documentElement.lang === 'kk'")
    assert f"{year + 1} жылға мерекелер күнтізбесі жоқ" in await warning.inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    await page.screenshot(path=str(artifacts / "board-calendar-warning-1024-kk.png"))
    await context.close()
