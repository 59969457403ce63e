"""The dispatch console's schedule board, map and lateness inbox, read from the real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import AuditEntry, Visit, WorkOrderEvent
from service.errors import Conflict, NotFound
from service.scheduling.services import LatenessService
from service.staff.lateness import LatenessInboxService
from service.staff.map import DispatchMapService
from service.staff.schedule import ScheduleBoardService
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio
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


def _tomorrow_at(hour: int) -> datetime:
    day = datetime.now(ALMATY).date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=ALMATY).astimezone(UTC)


async def test_board_places_a_visit_in_its_local_hour_columns_and_hides_other_territories(
    build: Builder,
) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    stranger = await build.technician_at(other, 0.5, 0.5)
    assert tech.technician is not None
    assert stranger.technician is not None
    start = _tomorrow_at(10)
    visit = await build.visit(await build.order(area), tech.technician, start=start, hours=2)
    await build.visit(await build.order(other), stranger.technician, start=start, hours=2)

    async with build.sessionmaker() as session:
        service = ScheduleBoardService(session, dispatcher.actor)
        board = await service.board(None, start.astimezone(ALMATY).date())
        with pytest.raises(NotFound):
            await service.board(other.territory.code, None)
    assert board.territory.code == area.territory.code
    assert [t.code for t in board.territories] == [area.territory.code]
    (row,) = board.rows
    assert row.id == tech.technician.id
    (block,) = row.visits
    assert block.visit_id == visit.id
    assert block.visible
    ticks = {t.label: t.left for t in board.ticks}
    assert block.window_span.left == pytest.approx(ticks["10:00"])
    assert block.window_span.left + block.window_span.width == pytest.approx(ticks["12:00"])
    # The shift 09:00-18:00 is shaded from the 09:00 column.
    (shift,) = row.shifts
    assert shift.left == pytest.approx(ticks["09:00"])
    assert block.arrival.astimezone(ALMATY).hour == 10
    assert not block.late

    week = await _board(build, dispatcher, "week", start)
    assert [len(r.visits) for r in week.rows] == [1]
    assert len(week.ticks) == 7


async def _board(build: Builder, person: Any, view: Any, start: datetime) -> Any:
    async with build.sessionmaker() as session:
        return await ScheduleBoardService(session, person.actor).board(
            None, start.astimezone(ALMATY).date(), view
        )


async def test_board_version_changes_when_a_visit_changes(build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    day = datetime.now(ALMATY).date() + timedelta(days=1)
    visit = await build.visit(await build.order(area), tech.technician, start=_tomorrow_at(11))
    async with build.sessionmaker() as session:
        service = ScheduleBoardService(session, dispatcher.actor)
        before = await service.version(None, day)
        assert await service.version(None, day) == before
        row = await session.get_one(Visit, visit.id)
        row.status = "en_route"
        await session.flush()
        assert await service.version(None, day) != before
        await session.rollback()


async def test_map_layers_are_geojson_of_the_callers_scope(build: Builder) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    now = datetime.now(UTC)
    visit = await build.visit(
        await build.order(area, status="in_progress"),
        tech.technician,
        start=now - timedelta(minutes=30),
        hours=2,
        status="on_site",
    )
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, visit.id)
        row.arrived_at = now - timedelta(minutes=10)
        row.arrival_location = f"SRID=4326;POINT({area.origin[0] + 0.51} {area.origin[1] + 0.49})"
        await session.commit()
    async with build.sessionmaker() as session:
        layers = await DispatchMapService(session, dispatcher.actor).layers(None, None)
        with pytest.raises(NotFound):
            await DispatchMapService(session, dispatcher.actor).layers(other.territory.code, None)
    outlines = json.loads(layers.outlines)
    assert outlines["type"] == "FeatureCollection"
    (outline,) = outlines["features"]
    assert outline["geometry"]["type"] == "MultiPolygon"
    assert outline["properties"]["code"] == area.territory.code
    ring = outline["geometry"]["coordinates"][0][0]
    # PostGIS writes coordinates to 9 decimals: compare as numbers, not as Python's floats.
    assert [area.origin[0], area.origin[1]] in [pytest.approx(point) for point in ring]
    sites = json.loads(layers.sites)["features"]
    assert [s["geometry"]["coordinates"] for s in sites] == [
        pytest.approx([area.origin[0] + 0.5, area.origin[1] + 0.5])
    ]
    assert sites[0]["properties"]["status"] == "on_site"
    (position,) = json.loads(layers.technicians)["features"]
    assert position["geometry"] == {
        "type": "Point",
        "coordinates": pytest.approx([area.origin[0] + 0.51, area.origin[1] + 0.49]),
    }
    assert position["properties"]["source"] == "arrival"


async def test_lateness_inbox_shows_the_alert_of_the_lateness_job_and_records_one_contact(
    build: Builder,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with build.sessionmaker() as session:
        await LatenessService(session).sweep(now)  # what earlier tests left behind
        await session.commit()
    area, other = await build.area(daytime_zone()), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    outsider = await build.person(Role.DISPATCHER, other.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
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
    late = await build.visit(
        late_order, tech.technician, start=now + timedelta(minutes=10), hours=0.5
    )
    async with build.sessionmaker() as session:
        assert await LatenessService(session).sweep(now) == 1
        await session.commit()

    async with build.sessionmaker() as session:
        inbox = await LatenessInboxService(session, dispatcher.actor).inbox(None)
        assert (await LatenessInboxService(session, outsider.actor).inbox(None)).alerts == []
    (alert,) = inbox.alerts
    assert alert.visit_id == late.id
    assert alert.number == late_order.number
    assert alert.phone == "+77011234567"
    assert alert.customer_name == area.customer.full_name
    assert alert.informed_at is None
    assert alert.predicted_arrival is not None
    assert alert.predicted_arrival > alert.window_end
    assert inbox.open_count == 1

    async with build.sessionmaker() as session:
        with pytest.raises(NotFound):
            await LatenessInboxService(session, outsider.actor).customer_informed(late.id)
        with pytest.raises(Conflict):
            await LatenessInboxService(session, dispatcher.actor).customer_informed(first.id)
        await session.rollback()
    for expected in (True, False):  # a second click records nothing more
        async with build.sessionmaker() as session:
            done = await LatenessInboxService(session, dispatcher.actor).customer_informed(late.id)
            await session.commit()
        assert done is expected
    async with build.sessionmaker() as session:
        events = (
            await session.scalars(
                select(WorkOrderEvent).where(
                    WorkOrderEvent.work_order_id == late_order.id,
                    WorkOrderEvent.kind == "customer.contacted",
                )
            )
        ).all()
        audits = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity_id == str(late_order.id),
                    AuditEntry.action == "customer.contacted",
                )
            )
        ).all()
        inbox = await LatenessInboxService(session, dispatcher.actor).inbox(None)
    assert len(events) == 1
    assert events[0].visit_id == late.id
    assert events[0].actor_user_id == dispatcher.user.id
    assert len(audits) == 1
    assert inbox.alerts[0].informed_at is not None
    assert inbox.open_count == 0


async def test_lateness_inbox_reassigns_a_late_visit_to_a_free_technician(build: Builder) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with build.sessionmaker() as session:
        await LatenessService(session).sweep(now)
        await session.commit()
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    busy = await build.technician_at(area, 0.5, 0.5)
    free = await build.technician_at(area, 0.5, 0.5)
    assert busy.technician is not None
    assert free.technician is not None
    # Inside tomorrow's shifts, so the other technician can take it whatever the time now.
    late = await build.visit(
        await build.order(area, status="scheduled"), busy.technician, start=_tomorrow_at(10)
    )
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, late.id)
        row.late_notified_at = now
        await session.commit()
    async with build.sessionmaker() as session:
        moved = await LatenessInboxService(session, dispatcher.actor).reassign(late.id)
        await session.commit()
    assert moved.technician_id == free.technician.id
    async with build.sessionmaker() as session:
        with pytest.raises(Conflict):  # a visit without an alert is not the inbox's to move
            await LatenessInboxService(session, dispatcher.actor).reassign(
                (await build.visit(await build.order(area), busy.technician)).id
            )
