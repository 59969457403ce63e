"""SLA clocks on the real database: events from the services, pauses, re-targeting, the job."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from service.common.actor import Role
from service.db.models import SlaClock, Visit, WorkOrder, WorkOrderEvent
from service.sla.calendar import Period, WorkingCalendar, make_week
from service.sla.clocks import refresh_due_clocks
from service.sla.events import record_event
from tests.conftest import problem
from tests.integration.builders import Area, Builder, Person
from tests.integration.sla.helpers import use_calendar, use_policy

pytestmark = pytest.mark.asyncio

AGREED = {"name": "Әлия Нұрланова", "channel": "phone"}


def local(area: Area, days_ahead: int, hour: int) -> datetime:
    zone = ZoneInfo(area.territory.time_zone)
    day = (datetime.now(zone) + timedelta(days=days_ahead)).date()
    return datetime.combine(day, time(hour), tzinfo=zone)


def window(start: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _order(client: Any, area: Area, who: Person, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/work-orders",
        json={
            "type": "repair",
            "customer_id": str(area.customer.id),
            "site_id": str(area.site.id),
            **extra,
        },
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _clocks(client: Any, order_id: Any, who: Person) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/coordination/work-orders/{order_id}/clocks", headers=who.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    body["by_target"] = {c["target"]: c for c in body["clocks"]}
    return body  # type: ignore[no-any-return]


async def test_clock_follows_the_orders_life(client: Any, build: Builder) -> None:
    await use_policy(build, priority="normal", response=60, arrival=2880, resolution=5760)
    await use_policy(build, priority="urgent", response=30, arrival=240, resolution=480)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    order = await _order(client, area, dispatcher)
    registered = at(order["created_at"])
    assert at(order["control_deadline"]) == registered + timedelta(minutes=5760)
    assert order["version"] == 1

    first = await _clocks(client, order["id"], coordinator)
    assert {c["status"] for c in first["clocks"]} == {"running"}
    assert [e["kind"] for e in first["events"]] == ["work_order.created"]
    assert first["by_target"]["resolution"]["steps"][0]["kind"] == "started"

    # Booking agrees a visit with the customer: the response clock stops.
    old_start = local(area, 2, 10)
    visit = await client.post(
        f"/api/v1/work-orders/{order['id']}/visits",
        json={"window": window(old_start), "agreed_by": AGREED},
        headers=dispatcher.headers,
    )
    assert visit.status_code == 201, visit.text
    booked = await _clocks(client, order["id"], coordinator)
    assert booked["by_target"]["response"]["status"] == "met"
    url = f"/api/v1/work-orders/{order['id']}"
    version = (await client.get(url, headers=dispatcher.headers)).json()["version"]

    # The customer asks to move the visit one day later: that day does not count.
    new_start = local(area, 3, 10)
    moved = await client.post(
        f"/api/v1/visits/{visit.json()['id']}/reschedule",
        json={"window": window(new_start), "reason_code": "customer_request", "agreed_by": AGREED},
        headers=dispatcher.headers,
    )
    assert moved.status_code == 200, moved.text
    after_move = await _clocks(client, order["id"], coordinator)
    resolution = after_move["by_target"]["resolution"]
    assert at(resolution["due_at"]) == registered + timedelta(minutes=5760 + 1440)
    assert [s["kind"] for s in resolution["steps"]][:3] == ["started", "paused", "resumed"]
    assert "customer_request" in resolution["steps"][1]["detail"]
    fetched = (await client.get(url, headers=dispatcher.headers)).json()
    assert at(fetched["control_deadline"]) == at(resolution["due_at"])
    assert fetched["version"] == version  # a derived deadline never makes an If-Match stale

    # Raising the priority re-targets from registration.
    raised = await client.patch(
        url,
        json={"priority": "urgent"},
        headers={**dispatcher.headers, "If-Match": f'"v{version}"'},
    )
    assert raised.status_code == 200, raised.text
    assert at(raised.json()["control_deadline"]) == registered + timedelta(minutes=480)
    urgent = await _clocks(client, order["id"], coordinator)
    steps = urgent["by_target"]["resolution"]["steps"]
    assert any(s["kind"] == "retargeted" and "normal -> urgent" in s["detail"] for s in steps)

    # The phone reports arrival and completion (the mobile flow records these events).
    arrived_at = datetime.now(UTC)
    async with build.sessionmaker() as session:
        await record_event(
            session,
            uuid.UUID(order["id"]),
            "visit.arrived",
            at=arrived_at,
            visit_id=uuid.UUID(visit.json()["id"]),
            actor=tech.actor,
        )
        await record_event(
            session,
            uuid.UUID(order["id"]),
            "visit.completed",
            at=arrived_at + timedelta(milliseconds=1),
        )
        await session.commit()
    done = await _clocks(client, order["id"], coordinator)
    assert done["by_target"]["arrival"]["status"] == "met"
    assert done["by_target"]["resolution"]["status"] == "met"
    assert at(done["by_target"]["resolution"]["stopped_at"]) == arrived_at + timedelta(
        milliseconds=1
    )
    async with build.sessionmaker() as session:
        stored = {
            c.target: c.status
            for c in (
                await session.scalars(
                    select(SlaClock).where(SlaClock.work_order_id == uuid.UUID(order["id"]))
                )
            ).all()
        }
        kinds = (
            await session.scalars(
                select(WorkOrderEvent.kind)
                .where(WorkOrderEvent.work_order_id == uuid.UUID(order["id"]))
                .order_by(WorkOrderEvent.id)
            )
        ).all()
    assert stored == {"response": "met", "arrival": "met", "resolution": "met"}
    assert kinds == [
        "work_order.created",
        "visit.booked",
        "visit.rescheduled",
        "work_order.updated",
        "visit.arrived",
        "visit.completed",
    ]


async def test_business_time_on_the_territorys_calendar(client: Any, build: Builder) -> None:
    await use_policy(
        build,
        work_type="installation",
        priority="normal",
        response=240,
        arrival=540,
        resolution=1080,
        measure="business",
    )
    area = await build.area(time_zone="Asia/Barnaul")
    tomorrow = (datetime.now(ZoneInfo("Asia/Barnaul")) + timedelta(days=1)).date()
    hours = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]
    await use_calendar(build, area.territory.id, hours, [(tomorrow.isoformat(), "holiday")])
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await _order(client, area, dispatcher, type="installation")
    calendar = WorkingCalendar(
        zone=ZoneInfo("Asia/Barnaul"),
        week=make_week((d, Period.of("09:00", "18:00")) for d in range(5)),
        holidays=frozenset({tomorrow}),
    )
    registered = at(order["created_at"])
    assert at(order["control_deadline"]) == calendar.add(registered, timedelta(minutes=1080))
    clocks = await _clocks(client, order["id"], dispatcher)
    response = clocks["by_target"]["response"]
    assert response["measure"] == "business"
    assert at(response["due_at"]) == calendar.add(registered, timedelta(minutes=240))
    assert "Asia/Barnaul" in response["steps"][0]["detail"]


async def test_no_access_pauses_until_the_next_window(client: Any, build: Builder) -> None:
    await use_policy(build, priority="high", response=60, arrival=600, resolution=2880)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    order = await _order(client, area, dispatcher, priority="high")
    order_id = uuid.UUID(order["id"])
    first = await client.post(
        f"/api/v1/work-orders/{order_id}/visits",
        json={"window": window(local(area, 1, 10)), "agreed_by": AGREED},
        headers=dispatcher.headers,
    )
    assert first.status_code == 201, first.text
    knocked = datetime.now(UTC)
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, uuid.UUID(first.json()["id"]))
        row.status = "no_access"
        row.finished_at = knocked
        order_row = await session.get_one(WorkOrder, order_id)
        order_row.status = "on_hold"
        await record_event(
            session, order_id, "visit.no_access", at=knocked, visit_id=row.id, actor=tech.actor
        )
        await session.commit()
    # Counting stopped at the knock; the due time is unknown until a new window is agreed.
    paused_clocks = await _clocks(client, order_id, dispatcher)
    paused = paused_clocks["by_target"]["resolution"]
    assert paused_clocks["control_deadline"] is None
    assert paused["status"] == "paused"
    assert paused["due_at"] is None
    assert paused["reason"] == "no_access"
    async with build.sessionmaker() as session:
        row = await session.get_one(WorkOrder, order_id)
        row.status = "new"
        await session.commit()
    second_start = local(area, 3, 10)
    second = await client.post(
        f"/api/v1/work-orders/{order_id}/visits",
        json={"window": window(second_start), "agreed_by": AGREED},
        headers=dispatcher.headers,
    )
    assert second.status_code == 201, second.text
    resolution = (await _clocks(client, order_id, dispatcher))["by_target"]["resolution"]
    registered = at(order["created_at"])
    counted_before = knocked - registered
    expected = second_start + (timedelta(minutes=2880) - counted_before)
    assert at(resolution["due_at"]) == expected.astimezone(UTC)
    assert resolution["status"] in ("paused", "running")


async def test_refresh_job_flips_states_once_and_skips_locked_orders(
    client: Any, build: Builder
) -> None:
    await use_policy(build, priority="low", response=60, arrival=120, resolution=180)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await _order(client, area, dispatcher, priority="low")
    order_id = uuid.UUID(order["id"])
    registered = at(order["created_at"])

    async def statuses() -> dict[str, tuple[str, datetime | None, datetime]]:
        async with build.sessionmaker() as session:
            rows = (
                await session.scalars(select(SlaClock).where(SlaClock.work_order_id == order_id))
            ).all()
            return {r.target: (r.status, r.next_change_at, r.computed_at) for r in rows}

    initially = await statuses()
    assert {s for s, _, _ in initially.values()} == {"running"}
    assert initially["response"][1] == registered + timedelta(minutes=48)  # the warning
    # Earlier tests leave due clocks behind and a refresh takes the oldest first, a batch at a
    # time: park theirs so this order's clocks are the ones due.
    async with build.sessionmaker() as session:
        await session.execute(
            update(SlaClock)
            .where(SlaClock.work_order_id != order_id, SlaClock.next_change_at.is_not(None))
            .values(next_change_at=None)
        )
        await session.commit()

    async with build.sessionmaker() as session:
        await refresh_due_clocks(session, registered + timedelta(minutes=100))
        await session.commit()
    middle = await statuses()
    assert middle["response"][0] == "breached"
    assert middle["arrival"][0] == "warning"
    assert middle["resolution"][0] == "running"

    # Two workers at once: the first holds the order, the second skips it.
    first_now = registered + timedelta(minutes=200)
    second_now = registered + timedelta(minutes=201)
    async with build.sessionmaker() as first, build.sessionmaker() as second:
        await refresh_due_clocks(first, first_now)
        await asyncio.wait_for(refresh_due_clocks(second, second_now), timeout=10)
        await second.commit()
        await first.commit()
    final = await statuses()
    assert {s for s, _, _ in final.values()} == {"breached"}
    assert {c for _, _, c in final.values()} == {first_now}
    assert all(n is None for _, n, _ in final.values())

    # Idempotent: nothing is due for this order any more.
    async with build.sessionmaker() as session:
        await refresh_due_clocks(session, registered + timedelta(minutes=300))
        await session.commit()
    assert await statuses() == final


async def test_refresh_job_gives_old_orders_their_clocks(client: Any, build: Builder) -> None:
    await use_policy(build, priority="normal", response=60, arrival=600, resolution=1440)
    area = await build.area()
    created = datetime.now(UTC) - timedelta(hours=30)
    order = await build.order(area, created_at=created)
    for _ in range(10):  # other tests' orders may be waiting too; oldest go first
        async with build.sessionmaker() as session:
            await refresh_due_clocks(session)
            await session.commit()
            if await session.scalar(
                select(WorkOrderEvent.id).where(WorkOrderEvent.work_order_id == order.id)
            ):
                break
    async with build.sessionmaker() as session:
        row = await session.get_one(WorkOrder, order.id)
        clocks = (
            await session.scalars(select(SlaClock).where(SlaClock.work_order_id == order.id))
        ).all()
        event = await session.scalar(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id)
        )
    assert row.control_deadline == created + timedelta(minutes=1440)
    assert {c.status for c in clocks} == {"breached"}
    assert event is not None
    assert event.data == {"backfilled": True}


async def test_clocks_of_another_territory_are_hidden(client: Any, build: Builder) -> None:
    area = await build.area()
    order = await build.order(area)
    outsider = await build.person(Role.COORDINATOR, (await build.area()).territory)
    response = await client.get(
        f"/api/v1/coordination/work-orders/{order.id}/clocks", headers=outsider.headers
    )
    assert response.status_code == 404
    problem(response)


async def test_events_that_cannot_move_a_clock_do_not_recompute(
    client: Any, build: Builder
) -> None:
    await use_policy(build, priority="normal", response=60, arrival=2880, resolution=5760)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order_id = uuid.UUID((await _order(client, area, dispatcher))["id"])

    async def computed_at(session: Any) -> set[datetime]:
        rows = await session.scalars(
            select(SlaClock.computed_at).where(SlaClock.work_order_id == order_id)
        )
        return set(rows.all())

    async with build.sessionmaker() as session:
        stored = await computed_at(session)
        assert stored
        contacted = await record_event(
            session, order_id, "customer.contacted", actor=dispatcher.actor
        )
        described = await record_event(
            session, order_id, "work_order.updated", data={"fields": ["description"]}
        )
        assert contacted is None
        assert described is None
        assert await computed_at(session) == stored
        resumed = await record_event(session, order_id, "work_order.resumed")
        assert resumed is not None
        assert {c.target for c in resumed.clocks} == {"response", "arrival", "resolution"}
        assert await computed_at(session) != stored
        await session.commit()
