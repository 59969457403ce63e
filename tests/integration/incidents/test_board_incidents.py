"""Incidents on the coordinator board: on top, in local time, acknowledged with a comment."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.auth.actor import Role
from service.board.texts import format_short
from service.db.models import AuditEntry, Incident
from tests.integration.board.test_board_page import BOARD, board, csrf, login, page
from tests.integration.builders import Builder
from tests.integration.incidents.conftest import Field, push, safety_exit

__all__ = ["board"]

pytestmark = pytest.mark.asyncio


async def incident_of(build: Builder, field: Field) -> Incident:
    async with build.sessionmaker() as session:
        incident = await session.scalar(select(Incident).where(Incident.visit_id == field.visit.id))
    assert incident is not None
    return incident


async def test_the_board_shows_the_incident_first_in_local_time(
    board: Any, build: Builder, field: Field
) -> None:
    await push(board, field, safety_exit(field))
    incident = await incident_of(build, field)
    coordinator = await build.person(Role.COORDINATOR, field.area.territory)
    await login(board, coordinator)
    html = (await page(board)).text

    card = re.search(
        rf'<li class="incident pending" id="incident-{incident.id}">(.*?)</li>', html, re.S
    )
    assert card, html
    # On top: before the overdue tiles and the escalations.
    assert html.index('id="incidents"') < html.index('id="bucket-tiles"')
    assert html.index('id="incidents"') < html.index('id="escalations"')
    local = format_short(incident.occurred_at.astimezone(ZoneInfo("Asia/Almaty")), "ru")
    assert f"<dd>{local}</dd>" in card[1]
    assert field.order.number in card[1]
    assert "Клиент угрожал" in card[1]
    assert "руководителям" in card[1] or "службе безопасности" in card[1]
    # One zone on this board: named once, in the header, and times carry no offset.
    assert "(UTC+05:00, Asia/Almaty)" in html
    assert html.count("Asia/Almaty") == 1
    assert "Время — местное время территории." in html
    assert "UTC+05:00</dd>" not in html

    # Another territory's coordinator does not see it.
    board.cookies.clear()
    stranger = await build.person(Role.COORDINATOR, (await build.area()).territory)
    await login(board, stranger)
    assert f"incident-{incident.id}" not in (await page(board)).text


async def test_acknowledging_on_the_board(board: Any, build: Builder, field: Field) -> None:
    await push(board, field, safety_exit(field))
    incident = await incident_of(build, field)
    supervisor = await build.person(Role.SUPERVISOR, field.area.territory)
    await login(board, supervisor, language="en")
    token = csrf((await page(board)).text)
    url = f"{BOARD}/incidents/{incident.id}/acknowledge"
    audit = await build.count(AuditEntry)

    refused = await board.post(url, data={"csrf": token, "comment": "  ", "back": ""})
    assert refused.status_code == 422
    assert "an incident cannot be acknowledged without one" in refused.text
    assert f'aria-describedby="incident-error-{incident.id}"' in refused.text
    assert (await incident_of(build, field)).acknowledged_at is None
    assert await build.count(AuditEntry) == audit

    forged = await board.post(url, data={"csrf": "forged", "comment": "ok", "back": ""})
    assert forged.status_code == 403
    assert (await incident_of(build, field)).acknowledged_at is None

    done = await board.post(
        url, data={"csrf": token, "comment": " Reached him, he is safe ", "back": ""}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/board?notice=incident_acknowledged"
    stored = await incident_of(build, field)
    assert stored.acknowledged_by == supervisor.user.id
    assert stored.ack_comment == "Reached him, he is safe"
    html = (await page(board, notice="incident_acknowledged")).text
    assert "Incident acknowledged." in html
    # Still on the board for the next shift, grey, with who and what.
    assert f'<li class="incident done" id="incident-{incident.id}">' in html
    assert "Reached him, he is safe" in html
    again = await board.post(url, data={"csrf": token, "comment": "twice", "back": ""})
    assert again.headers["location"] == "/board?notice=incident_gone"


async def test_an_anonymous_acknowledgement_goes_to_the_login(
    board: Any, build: Builder, field: Field
) -> None:
    await push(board, field, safety_exit(field))
    incident = await incident_of(build, field)
    audit = await build.count(AuditEntry)
    response = await board.post(
        f"{BOARD}/incidents/{incident.id}/acknowledge",
        data={"csrf": "none", "comment": "Reached him", "back": ""},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/board/login"
    stored = await incident_of(build, field)
    assert (stored.acknowledged_at, stored.acknowledged_by, stored.ack_comment) == (
        None,
        None,
        None,
    )
    assert await build.count(AuditEntry) == audit


async def test_another_territorys_staff_cannot_acknowledge_it(
    board: Any, build: Builder, field: Field
) -> None:
    await push(board, field, safety_exit(field))
    incident = await incident_of(build, field)
    stranger = await build.person(Role.SUPERVISOR, (await build.area()).territory)
    await login(board, stranger)
    token = csrf((await page(board)).text)
    audit = await build.count(AuditEntry)
    response = await board.post(
        f"{BOARD}/incidents/{incident.id}/acknowledge",
        data={"csrf": token, "comment": "Reached him", "back": ""},
    )
    # Outside the caller's territories the incident does not exist.
    assert response.status_code == 303
    assert response.headers["location"] == "/board?notice=incident_gone"
    stored = await incident_of(build, field)
    assert (stored.acknowledged_at, stored.acknowledged_by, stored.ack_comment) == (
        None,
        None,
        None,
    )
    assert await build.count(AuditEntry) == audit


async def test_a_board_over_several_zones_names_each_times_zone(
    board: Any, build: Builder, field: Field
) -> None:
    await push(board, field, safety_exit(field))
    incident = await incident_of(build, field)
    east = await build.area(time_zone="Asia/Kamchatka")  # UTC+12
    coordinator = await build.person(Role.COORDINATOR, field.area.territory, east.territory)
    await login(board, coordinator)
    html = (await page(board)).text
    local = incident.occurred_at.astimezone(ZoneInfo("Asia/Almaty"))
    assert f"<dd>{format_short(local, 'ru')} UTC+05:00</dd>" in html
    assert "у каждого времени указан его пояс" in html
    assert "Asia/Almaty" not in html.split('id="incidents"')[0]  # the header names no zone
    # Filtered to one territory, the board is back to one zone, named once.
    filtered = (await page(board, territory=str(field.area.territory.id))).text
    assert f"<dd>{format_short(local, 'ru')}</dd>" in filtered
    assert "(UTC+05:00, Asia/Almaty)" in filtered
