"""A dispatcher reads the schedule board, the map and the lateness inbox in headless Chromium."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import Range

from service.common.actor import Role
from service.db.models import Absence, Technician, Territory, User, Visit
from service.scheduling.services import LatenessService
from tests.browser.axe import serious_violations
from tests.integration.builders import PASSWORD, Area, Builder, Person

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
ALMATY = ZoneInfo("Asia/Almaty")


def daytime_zone() -> str:
    """A time zone where it is daytime now, so a visit in the next hour is on today's plan.

    The lateness job plans each technician's local day; near local midnight a visit starting
    soon belongs to tomorrow and the test would depend on the hour it runs.
    """
    for zone in ("Asia/Almaty", "Europe/London", "America/New_York", "Asia/Tokyo"):
        if 6 <= datetime.now(ZoneInfo(zone)).hour <= 20:
            return zone
    return "America/Los_Angeles"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ALMATY).astimezone(UTC)


async def _rename(build: Builder, area: Area, people: list[tuple[Person, str]]) -> str:
    code = f"ALM-{secrets.token_hex(2).upper()}"
    async with build.sessionmaker() as session:
        await session.execute(
            update(Territory)
            .where(Territory.id == area.territory.id)
            .values(code=code, name="Алматы · Медеуский район")
        )
        for person, name in people:
            if person.technician is not None:
                await session.execute(
                    update(Technician)
                    .where(Technician.id == person.technician.id)
                    .values(full_name=name)
                )
            else:
                await session.execute(
                    update(User).where(User.id == person.user.id).values(full_name=name)
                )
        await session.commit()
    return code


async def _sign_in(context: BrowserContext, live_server: str, who: Person, path: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{live_server}{path}")
    assert "/staff/login" in page.url
    await page.fill("#username", who.user.username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}{path}*")
    return page


async def _offline(page: Page, live_server: str) -> list[str]:
    """Refuse every request that leaves the live server; return what was tried."""
    tried: list[str] = []

    async def guard(route: Any) -> None:
        if route.request.url.startswith(live_server):
            await route.continue_()
        else:
            tried.append(route.request.url)
            await route.abort()

    await page.route("**/*", guard)
    return tried


async def test_schedule_board_places_a_booked_visit_in_its_local_hour(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    kanat = await build.technician_at(area, 0.3, 0.3)
    alexey = await build.technician_at(area, 0.7, 0.6)
    dina = await build.technician_at(area, 0.5, 0.2)
    code = await _rename(
        build,
        area,
        [
            (dispatcher, "Ахметова Динара"),
            (kanat, "Серікбаев Қанат"),
            (alexey, "Петров Алексей"),
            (dina, "Жумабаева Дина"),
        ],
    )
    assert kanat.technician
    assert alexey.technician
    assert dina.technician
    day = datetime.now(ALMATY).date() + timedelta(days=1)
    booked_order = await build.order(area, status="scheduled")
    booked = await build.visit(booked_order, kanat.technician, start=_at(day, 10), hours=2)
    second = await build.order(area, status="scheduled", type="installation")
    await build.visit(second, kanat.technician, start=_at(day, 14), hours=2)
    late_order = await build.order(area, status="scheduled")
    late = await build.visit(late_order, alexey.technician, start=_at(day, 12), hours=1)
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, late.id)
        row.status = "en_route"
        row.eta = _at(day, 13, 40)  # reported by the phone: past the window's end
        session.add(
            Absence(
                technician_id=dina.technician.id,
                period=Range(_at(day, 0), _at(day + timedelta(days=1), 0), bounds="[)"),
                kind="sick_leave",
            )
        )
        await session.commit()

    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    path = f"/dispatch/schedule?territory={code}&day={day.isoformat()}"
    page = await _sign_in(context, live_server, dispatcher, path)
    tried = await _offline(page, live_server)
    await page.reload()
    assert "Asia/Almaty" in await page.inner_text(".zone")
    block = page.locator(f'.visit[data-visit="{booked.id}"]')
    assert booked_order.number in await block.inner_text()
    assert "10:00–12:00" in await block.inner_text()
    ten = page.locator(".grid-head .tick", has_text="10:00")
    noon = page.locator(".grid-head .tick", has_text="12:00")
    block_box, ten_box, noon_box = (
        await block.bounding_box(),
        await ten.bounding_box(),
        await noon.bounding_box(),
    )
    assert block_box
    assert ten_box
    assert noon_box
    # Ticks are drawn 3 px right of their gridline; the block spans 10:00 to 12:00 exactly.
    assert abs(block_box["x"] - (ten_box["x"] - 3)) <= 3
    assert abs(block_box["x"] + block_box["width"] - (noon_box["x"] - 3)) <= 3
    late_block = page.locator(f'.visit[data-visit="{late.id}"]')
    assert "is-late" in (await late_block.get_attribute("class") or "")
    color = await late_block.evaluate("e => getComputedStyle(e).borderTopColor")
    assert color == "rgb(185, 28, 28)"
    assert await page.locator(".absence").count() == 1
    await page.screenshot(path=str(artifacts / "dispatch-schedule-1440.png"), full_page=True)
    await page.set_viewport_size({"width": 1024, "height": 800})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    await page.screenshot(path=str(artifacts / "dispatch-schedule-1024.png"), full_page=True)
    # The one-hour block is narrow here: it keeps the number's tail and the window's start, its
    # title says everything, and keyboard focus opens it out to the whole text.
    # (The whole number stays in the link's text for screen readers, clipped out of sight.)
    seen = "e => e.getBoundingClientRect().width > 1"
    assert not await late_block.locator(".no").evaluate(seen)
    assert await late_block.locator(".no-short").evaluate(seen)
    tail = late_order.number.rsplit("-", 1)[-1]
    assert tail in await late_block.locator(".no-short").inner_text()
    assert "12:00" in await late_block.inner_text()
    assert late_order.number in (await late_block.get_attribute("title") or "")
    assert (await late_block.get_attribute("href") or "").endswith(str(late_order.id))
    await late_block.focus()
    opened = await late_block.bounding_box()
    assert opened
    assert opened["width"] >= 200
    assert await late_block.locator(".no").evaluate(seen)
    await page.screenshot(path=str(artifacts / "dispatch-schedule-focus-1024.png"), full_page=True)
    week = await context.new_page()
    await week.goto(f"{live_server}{path}&view=week")
    await week.screenshot(path=str(artifacts / "dispatch-schedule-week-1440.png"), full_page=True)
    assert tried == []

    # The phone reports "on site": the board shows it without a reload.
    await page.clock.install()
    await page.reload()
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, booked.id)
        row.status = "on_site"
        await session.commit()
    await page.clock.run_for(25_000)
    await page.wait_for_selector(f'.visit[data-visit="{booked.id}"][data-status="on_site"]')

    checked = await browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="ru-RU", bypass_csp=True
    )
    axe_page = await _sign_in(checked, live_server, dispatcher, path)
    assert await serious_violations(axe_page) == []
    await context.close()
    await checked.close()


async def test_map_shows_outlines_and_points_without_network_tiles(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.4, 0.4)
    code = await _rename(build, area, [(dispatcher, "Ахметова Динара"), (tech, "Серікбаев Қанат")])
    assert tech.technician is not None
    now = datetime.now(UTC)
    on_site = await build.visit(
        await build.order(area, status="in_progress"),
        tech.technician,
        start=now - timedelta(minutes=30),
        hours=2,
        status="on_site",
    )
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, on_site.id)
        row.arrived_at = now - timedelta(minutes=20)
        row.arrival_location = f"SRID=4326;POINT({area.origin[0] + 0.52} {area.origin[1] + 0.48})"
        await session.commit()

    for width in (1440, 1024):
        context = await browser.new_context(
            viewport={"width": width, "height": 900}, locale="ru-RU", bypass_csp=width == 1024
        )
        page = await _sign_in(context, live_server, dispatcher, f"/dispatch/map?territory={code}")
        tried = await _offline(page, live_server)
        await page.reload()
        await page.wait_for_selector("#dispatch-map[data-ready=true]")
        assert await page.locator(".leaflet-tile").count() == 0
        # One outline and two circle markers (the site and the technician's arrival fix).
        assert await page.locator(".leaflet-overlay-pane path").count() == 3
        assert "Серікбаев Қанат" in await page.inner_text("#map-technicians")
        await page.screenshot(path=str(artifacts / f"dispatch-map-{width}.png"), full_page=True)
        assert tried == []
        if width == 1024:
            assert await serious_violations(page) == []
        await context.close()


async def test_lateness_inbox_shows_the_alert_raised_by_the_lateness_job(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with build.sessionmaker() as session:
        await LatenessService(session).sweep(now)  # what earlier tests left behind
        await session.commit()
    area = await build.area(daytime_zone())
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    code = await _rename(build, area, [(dispatcher, "Ахметова Динара"), (tech, "Серікбаев Қанат")])
    assert tech.technician is not None
    first = await build.visit(
        await build.order(area, status="in_progress"),
        tech.technician,
        start=now - timedelta(hours=1),
        hours=1,
        status="on_site",
    )
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, first.id)
        row.arrived_at = now - timedelta(minutes=5)
        await session.commit()
    late_order = await build.order(area, status="scheduled")
    await build.visit(late_order, tech.technician, start=now + timedelta(minutes=10), hours=0.5)

    context = await browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="ru-RU", bypass_csp=True
    )
    page = await _sign_in(context, live_server, dispatcher, f"/dispatch/lateness?territory={code}")
    assert await page.locator("table.lateness tbody tr").count() == 0
    async with build.sessionmaker() as session:
        assert await LatenessService(session).sweep(now) == 1  # the job's own sweep
        await session.commit()
    await page.reload()
    alert = page.locator("table.lateness tbody tr", has_text=late_order.number)
    assert await alert.locator('a[href="tel:+77011234567"]').count() == 1
    await page.screenshot(path=str(artifacts / "dispatch-lateness-1440.png"), full_page=True)
    assert await serious_violations(page) == []
    await alert.get_by_role("button", name="Клиент предупреждён").click()
    await page.wait_for_selector("p.notice[role=status]")
    assert (
        "Предупреждён"
        in await page.locator("table.lateness tbody tr", has_text=late_order.number).inner_text()
    )
    await page.set_viewport_size({"width": 1024, "height": 800})
    wide = await page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 1024)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert wide == []  # nothing sticks out sideways at 1024 px
    await page.screenshot(path=str(artifacts / "dispatch-lateness-1024.png"), full_page=True)
    await context.close()
