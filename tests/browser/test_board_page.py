"""The coordinator works the board in headless Chromium: sign in, read, switch language, act."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import update

from service.common.actor import Role
from service.db.models import (
    Escalation,
    Rating,
    SlaClock,
    Technician,
    Territory,
    User,
    Visit,
    WorkOrder,
)
from tests.integration.builders import PASSWORD, Area, Builder, Person
from tests.integration.sla.helpers import add_event

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


@dataclass
class BoardScene:
    coordinator: Person
    numbers: dict[str, str]
    escalations: dict[str, uuid.UUID]
    area: Area


def _number() -> str:
    return f"WO-2026-{secrets.randbelow(900_000) + 100_000}"


async def _scene(build: Builder) -> BoardScene:
    """A territory's morning: six late or nearly late orders, three escalations, a month of work."""
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    kanat = await build.person(Role.TECHNICIAN, area.territory)
    alexey = await build.person(Role.TECHNICIAN, area.territory)
    assert kanat.technician is not None
    assert alexey.technician is not None
    now = datetime.now(UTC).replace(microsecond=0)

    def at(hours: float) -> datetime:
        return now + timedelta(hours=hours)

    async with build.sessionmaker() as session:
        await session.execute(
            update(Territory)
            .where(Territory.id == area.territory.id)
            .values(code=f"ALM-{secrets.token_hex(2).upper()}", name="Алматы · Медеуский район")
        )
        for person, name in ((coordinator, "Ким Ольга"), (dispatcher, "Ахметова Динара")):
            await session.execute(
                update(User).where(User.id == person.user.id).values(full_name=name)
            )
        await session.execute(
            update(Technician)
            .where(Technician.id == alexey.technician.id)
            .values(full_name="Петров Алексей")
        )
        await session.commit()

    who = dispatcher.user.id
    orders = {
        "due_soon": await build.order(
            area, control_deadline=at(1.2), priority="urgent", created_by=who
        ),
        "missed": await build.order(
            area, control_deadline=at(-1.5), priority="high", status="scheduled", created_by=who
        ),
        "working": await build.order(
            area, control_deadline=at(-2.6), status="in_progress", created_by=who
        ),
        "on_hold": await build.order(
            area,
            control_deadline=at(-6),
            type="installation",
            status="on_hold",
            hold_reason="Ожидание оборудования",
            created_by=who,
        ),
        "unbooked": await build.order(
            area, control_deadline=at(-30), type="construction", created_by=who
        ),
        "meter": await build.order(
            area, control_deadline=at(-100), type="meter_check", priority="low", created_by=who
        ),
    }
    numbers = {name: _number() for name in orders}
    async with build.sessionmaker() as session:
        for name, order in orders.items():
            await session.execute(
                update(WorkOrder).where(WorkOrder.id == order.id).values(number=numbers[name])
            )
        await session.commit()

    await build.visit(orders["due_soon"], kanat.technician, start=at(0.3), hours=2)
    await build.visit(orders["missed"], alexey.technician, start=at(-4), hours=2)
    working = await build.visit(orders["working"], alexey.technician, start=at(-1), hours=2)
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, working.id)
        row.status, row.arrived_at = "on_site", at(-0.8)
        await session.commit()
    for kind, hours, actor in (
        ("visit.booked", -20, dispatcher),
        ("visit.rescheduled", -9, dispatcher),
        ("customer.contacted", -1, coordinator),
    ):
        await add_event(build, orders["missed"].id, kind, at(hours), actor=actor.actor)
    await add_event(build, orders["working"].id, "visit.arrived", at(-0.8), actor=kanat.actor)
    await add_event(build, orders["unbooked"].id, "customer.notified", at(-3))

    # Finished work for the KPI tiles, all of it in the last five hours (the tiles show the
    # current month, so the figures are checked only when it began before that).
    for n, (on_time, score, met) in enumerate(
        ((True, 5, True), (True, 4, True), (False, 5, False), (True, 3, True))
    ):
        done = await build.order(area, status="completed", created_at=at(-6))
        start = at(-5 + n)
        visit = await build.visit(done, kanat.technician, start=start, hours=1)
        async with build.sessionmaker() as session:
            row = await session.get_one(Visit, visit.id)
            row.status = "completed"
            row.arrived_at = start + timedelta(minutes=20 if on_time else 70)
            row.finished_at = row.arrived_at + timedelta(minutes=30)
            session.add(Rating(work_order_id=done.id, visit_id=visit.id, score=score))
            session.add(
                SlaClock(
                    work_order_id=done.id,
                    target="resolution",
                    status="met" if met else "breached",
                    measure="calendar",
                    target_minutes=1440,
                    started_at=at(-6),
                    due_at=at(-1 if met else -2.5),
                    stopped_at=row.finished_at,
                    settled_at=row.finished_at,
                    paused_minutes=0,
                )
            )
            await session.commit()

    escalations = {}
    async with build.sessionmaker() as session:
        for name, level, role, created in (
            ("meter", "head", "supervisor", -50),
            ("missed", "breach", "coordinator", -1.4),
            ("due_soon", "warning", "dispatcher", -0.5),
        ):
            escalation = Escalation(
                work_order_id=orders[name].id,
                target="resolution",
                level=level,
                due_at=orders[name].control_deadline,
                recipient_role=role,
                recipient_ids=[],
                customer_new_date=at(24) if level == "breach" else None,
                created_at=at(created),
            )
            session.add(escalation)
            await session.flush()
            escalations[name] = escalation.id
        await session.commit()
    return BoardScene(coordinator, numbers, escalations, area)


async def _sign_in(page: Page, live_server: str, scene: BoardScene, artifacts: Path) -> None:
    await page.goto(f"{live_server}/board")
    assert page.url.endswith("/board/login")
    await page.fill("#username", scene.coordinator.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "ru")
    await page.screenshot(path=str(artifacts / "board-login.png"))
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/board")


async def test_coordinator_works_the_board(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    scene = await _scene(build)
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    page = await context.new_page()
    await page.clock.install()  # the self-refresh timer is fast-forwarded below
    await _sign_in(page, live_server, scene, artifacts)

    assert await page.get_attribute("html", "lang") == "ru"
    assert await page.inner_text("#bucket-tiles [data-bucket=total] .n") == "6"
    assert await page.inner_text("#bucket-tiles [data-bucket=overdue_0_4h] .n") == "2"
    missed = page.locator("#overdue-table tr", has_text=scene.numbers["missed"])
    await missed.wait_for()
    assert "Окно визита прошло" in await missed.inner_text()
    assert "Петров Алексей" in await missed.inner_text()
    month_start = datetime.now(ZoneInfo("Asia/Almaty")).replace(day=1, hour=0, minute=0)
    if datetime.now(UTC) - month_start > timedelta(hours=6):
        assert await page.inner_text("#kpi-tiles [data-kpi=rating] .n") == "4,25"
        # 4 of 5 arrivals: the order being worked on arrived inside its window too.
        assert await page.inner_text("#kpi-tiles [data-kpi=on_time] .n") == "80\u00a0%"
    # The territory by its name, never its code; the supervisors' card without a form to answer.
    assert "Алматы · Медеуский район" in await missed.inner_text()
    assert "ALM-" not in await page.inner_text("main")
    theirs = page.locator(f"#escalation-{scene.escalations['meter']}")
    assert await theirs.locator("textarea, button").count() == 0
    assert "Адресовано руководителям: подтверждают они." in await theirs.inner_text()
    await page.screenshot(path=str(artifacts / "board-ru.png"), full_page=True)

    # A new late order appears by itself within a minute.
    fresh = await build.order(
        scene.area, control_deadline=datetime.now(UTC) - timedelta(minutes=20)
    )
    await page.clock.fast_forward("01:01")
    await page.locator("#overdue-table tr", has_text=fresh.number).wait_for()
    assert await page.inner_text("#bucket-tiles [data-bucket=total] .n") == "7"

    await page.click('nav.langs a[hreflang="en"]')
    await page.wait_for_function("document.documentElement.lang === 'en'")
    assert "Coordinator board" in await page.inner_text("h1")
    assert "Overdue 0–4 h" in await page.inner_text("#bucket-tiles")
    await page.screenshot(path=str(artifacts / "board-en.png"), full_page=True)

    card = page.locator(f"#escalation-{scene.escalations['missed']}")
    await card.locator("textarea").fill("Called the customer: apologised, new visit tomorrow 10:00")
    await card.locator("button").click()
    await page.locator(".notice").wait_for()
    assert "Escalation acknowledged." in await page.inner_text(".notice")
    assert await page.locator(f"#escalation-{scene.escalations['missed']}").count() == 0
    async with build.sessionmaker() as session:
        row = await session.get_one(Escalation, scene.escalations["missed"])
        assert row.acknowledged_by == scene.coordinator.user.id
        assert row.ack_comment == "Called the customer: apologised, new visit tomorrow 10:00"

    # A tablet in portrait, in Kazakh.
    await page.set_viewport_size({"width": 820, "height": 1180})
    await page.goto(f"{live_server}/board?lang=kk")
    assert await page.get_attribute("html", "lang") == "kk"
    assert "Үйлестіруші тақтасы" in await page.inner_text("h1")
    await page.screenshot(path=str(artifacts / "board-tablet-kk.png"), full_page=True)
    await context.close()
