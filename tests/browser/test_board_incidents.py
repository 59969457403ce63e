"""A supervisor sees a safety incident on top of the board at desk size and acknowledges it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser
from sqlalchemy import select, update

from checklists.schema import Incident as IncidentDefinition
from service.auth.actor import Role
from service.board.texts import format_short
from service.db.models import Incident, Technician, User, Visit, WorkOrder
from service.incidents.services import IncidentRouting, raise_incident
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

SAFETY = IncidentDefinition(kind="safety", notify=("supervisor",), fallback_notify=("security",))


async def test_supervisor_sees_and_acknowledges_an_incident_at_1280(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    now = datetime.now(UTC).replace(microsecond=0)
    late = await build.order(area, control_deadline=now - timedelta(hours=2))
    ids = []
    for minutes_ago, reason in ((35, "Хозяин квартиры угрожал собакой"), (180, None)):
        order = await build.order(area, status="scheduled")
        visit = await build.visit(
            order, technician.technician, start=now - timedelta(minutes=minutes_ago + 30), hours=0.5
        )
        async with build.sessionmaker() as session:
            incident_id = await raise_incident(
                session,
                definition=SAFETY,
                visit=await session.get_one(Visit, visit.id),
                order=await session.get_one(WorkOrder, order.id),
                outcome="aborted_safety",
                occurred_at=now - timedelta(minutes=minutes_ago),
                reason=reason,
                routing=IncidentRouting(),
            )
            await session.commit()
        assert incident_id is not None
        ids.append(incident_id)
    async with build.sessionmaker() as session:
        await session.execute(
            update(User).where(User.id == supervisor.user.id).values(full_name="Омаров Ерлан")
        )
        await session.execute(
            update(Technician)
            .where(Technician.id == technician.technician.id)
            .values(full_name="Серікбаев Қанат")
        )
        # The older one was handled by the previous shift.
        await session.execute(
            update(Incident)
            .where(Incident.id == ids[1])
            .values(
                acknowledged_at=now - timedelta(minutes=150),
                acknowledged_by=supervisor.user.id,
                ack_comment="Связался со специалистом, он в безопасности",
            )
        )
        await session.commit()

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = await context.new_page()
    await page.goto(f"{live_server}/board/login")
    await page.fill("#username", supervisor.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "ru")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/board")

    panel = page.locator("#incidents")
    await panel.wait_for()
    cards = panel.locator("li.incident")
    assert await cards.count() == 2
    # Unacknowledged first, red; the acknowledged one below it.
    assert await cards.nth(0).get_attribute("id") == f"incident-{ids[0]}"
    assert "pending" in (await cards.nth(0).get_attribute("class") or "")
    assert "done" in (await cards.nth(1).get_attribute("class") or "")
    border = await cards.nth(0).evaluate("e => getComputedStyle(e).borderLeftColor")
    assert border == "rgb(185, 28, 28)"
    # The panel is above the overdue tiles on screen.
    panel_box = await panel.bounding_box()
    tiles_box = await page.locator("#bucket-tiles").bounding_box()
    assert panel_box is not None
    assert tiles_box is not None
    assert panel_box["y"] < tiles_box["y"]
    first = await cards.nth(0).inner_text()
    local = format_short((now - timedelta(minutes=35)).astimezone(ZoneInfo("Asia/Almaty")), "ru")
    assert local in first
    assert "Серікбаев Қанат" in first
    assert "Хозяин квартиры угрожал собакой" in first
    assert "(UTC+05:00, Asia/Almaty)" in await page.inner_text(".headline")
    assert late.number in await page.inner_text("#overdue-table")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1280
    await page.screenshot(path=str(artifacts / "board-incident-1280.png"), full_page=True)

    # An empty comment is refused next to the form; then the acknowledgement goes through.
    await cards.nth(0).locator("button").click()
    assert await cards.nth(0).locator("textarea").evaluate("e => !e.validity.valid")
    await cards.nth(0).locator("textarea").fill("Позвонил Қанату: он в машине, в безопасности")
    await cards.nth(0).locator("button").click()
    await page.locator(".notice").wait_for()
    assert "Инцидент подтверждён." in await page.inner_text(".notice")
    assert await page.locator("#incidents li.incident.pending").count() == 0
    await page.screenshot(
        path=str(artifacts / "board-incident-acknowledged-1280.png"), full_page=True
    )
    # The smallest staff screen, in Kazakh: nothing runs off to the side.
    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.click('nav.langs a[hreflang="kk"]')
    await page.wait_for_function("document.documentElement.lang === 'kk'")
    assert "Қауіпсіздікке қатер" in await page.inner_text("#incidents")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    await page.screenshot(path=str(artifacts / "board-incident-1024-kk.png"), full_page=True)
    await context.close()
    async with build.sessionmaker() as session:
        stored = await session.scalar(select(Incident).where(Incident.id == ids[0]))
    assert stored is not None
    assert stored.acknowledged_by == supervisor.user.id
    assert stored.ack_comment == "Позвонил Қанату: он в машине, в безопасности"
