"""Slots, booking races, changes, day plans and lateness against the real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import AuditEntry, Visit, WorkOrder
from tests.conftest import problem
from tests.integration.builders import Area, Builder, Person

pytestmark = pytest.mark.asyncio


def local_day(area: Area, days_ahead: int = 2) -> date:
    zone = ZoneInfo(area.territory.time_zone)
    return (datetime.now(zone) + timedelta(days=days_ahead)).date()


def local(area: Area, day: date, hour: float) -> datetime:
    zone = ZoneInfo(area.territory.time_zone)
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hour)


def window(area: Area, day: date, start: float, end: float) -> dict[str, str]:
    return {"start": local(area, day, start).isoformat(), "end": local(area, day, end).isoformat()}


AGREED = {"name": "Әлия Нұрланова", "channel": "phone"}


async def _book(client: Any, who: Person, order_id: Any, body: dict[str, Any]) -> Any:
    return await client.post(
        f"/api/v1/work-orders/{order_id}/visits", json=body, headers=who.headers
    )


async def test_slots_rank_nearest_and_skip_unqualified_absent_and_outsiders(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    elsewhere = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    near = await build.technician_at(area, 0.51, 0.5)
    far = await build.technician_at(area, 0.6, 0.6)  # ~12 km: reachable from 09:00
    unqualified = await build.technician_at(area, 0.5, 0.5, skills=["meter_check"])
    outsider = await build.technician_at(elsewhere, 0.5, 0.5)
    absent = await build.technician_at(area, 0.505, 0.5)
    order = await build.order(area)
    day = local_day(area)
    response = await client.post(
        f"/api/v1/technicians/{absent.actor.technician_id}/absences",
        json={
            "period": {
                "start": local(area, day, 0).isoformat(),
                "end": local(area, day, 24).isoformat(),
            },
            "kind": "sick_leave",
        },
        headers=dispatcher.headers,
    )
    assert response.status_code == 201, response.text

    offer = await client.get(
        f"/api/v1/work-orders/{order.id}/slots",
        params={"from": day.isoformat(), "days": 1},
        headers=dispatcher.headers,
    )
    assert offer.status_code == 200, offer.text
    body = offer.json()
    assert body["time_zone"] == "Asia/Almaty"
    assert body["window_minutes"] == 120
    starts = [slot["window"]["start"] for slot in body["slots"]]
    assert starts == [local(area, day, h).isoformat() for h in (9, 11, 13, 15)]
    for slot in body["slots"]:
        ids = [c["technician_id"] for c in slot["candidates"]]
        assert ids == [str(near.actor.technician_id), str(far.actor.technician_id)]
        assert slot["candidates"][0]["distance_km"] < slot["candidates"][1]["distance_km"]
    seen = {c["technician_id"] for s in body["slots"] for c in s["candidates"]}
    assert not seen & {str(p.actor.technician_id) for p in (unqualified, outsider, absent)}


async def test_slots_honour_existing_visits_and_capacity(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    await build.week(tech.technician, capacity=2)
    day = local_day(area)
    busy = await build.order(area, status="scheduled")
    await build.visit(busy, tech.technician, start=local(area, day, 11), hours=2)
    order = await build.order(area)
    offer = (
        await client.get(
            f"/api/v1/work-orders/{order.id}/slots",
            params={"from": day.isoformat(), "days": 1},
            headers=dispatcher.headers,
        )
    ).json()
    starts = [slot["window"]["start"] for slot in offer["slots"]]
    assert local(area, day, 11).isoformat() not in starts
    assert local(area, day, 9).isoformat() in starts
    another = await build.order(area, status="scheduled")
    await build.visit(another, tech.technician, start=local(area, day, 15), hours=2)
    full = (
        await client.get(
            f"/api/v1/work-orders/{order.id}/slots",
            params={"from": day.isoformat(), "days": 1},
            headers=dispatcher.headers,
        )
    ).json()
    assert full["slots"] == []  # capacity 2 reached


async def test_barnaul_windows_are_in_local_time(client: Any, build: Builder) -> None:
    area = await build.area(time_zone="Asia/Barnaul")
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    await build.technician_at(area, 0.5, 0.5)
    order = await build.order(area)
    day = local_day(area)
    offer = (
        await client.get(
            f"/api/v1/work-orders/{order.id}/slots",
            params={"from": day.isoformat(), "days": 1},
            headers=dispatcher.headers,
        )
    ).json()
    first = datetime.fromisoformat(offer["slots"][0]["window"]["start"])
    assert first.utcoffset() == timedelta(hours=7)
    assert (first.hour, first.astimezone(UTC).hour) == (9, 2)


async def test_book_best_candidate_schedules_the_order(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    near = await build.technician_at(area, 0.51, 0.5)
    await build.technician_at(area, 0.8, 0.8)
    order = await build.order(area)
    day = local_day(area)
    response = await _book(
        client, dispatcher, order.id, {"window": window(area, day, 11, 13), "agreed_by": AGREED}
    )
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["technician_id"] == str(near.actor.technician_id)
    assert visit["status"] == "planned"
    assert visit["agreed_with"] == AGREED["name"]
    assert visit["agreement_channel"] == "phone"
    assert datetime.fromisoformat(visit["planned_start"]) == local(area, day, 11)
    fetched = await client.get(f"/api/v1/work-orders/{order.id}", headers=dispatcher.headers)
    assert fetched.json()["status"] == "scheduled"
    assert (
        await build.count(
            AuditEntry, AuditEntry.entity_id == visit["id"], AuditEntry.action == "visit.booked"
        )
        == 1
    )
    listed = await client.get(f"/api/v1/work-orders/{order.id}/visits", headers=dispatcher.headers)
    assert [v["id"] for v in listed.json()["items"]] == [visit["id"]]
    again = await _book(
        client, dispatcher, order.id, {"window": window(area, day, 15, 17), "agreed_by": AGREED}
    )
    assert again.status_code == 409


async def test_two_dispatchers_racing_for_one_technician(client: Any, build: Builder) -> None:
    area = await build.area()
    first = await build.person(Role.DISPATCHER, area.territory)
    second = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    one, two = await build.order(area), await build.order(area)
    day = local_day(area)
    responses = await asyncio.gather(
        _book(
            client,
            first,
            one.id,
            {
                "window": window(area, day, 11, 13),
                "agreed_by": AGREED,
                "technician_id": str(tech.actor.technician_id),
            },
        ),
        _book(
            client,
            second,
            two.id,
            {
                "window": window(area, day, 12, 14),
                "agreed_by": AGREED,
                "technician_id": str(tech.actor.technician_id),
            },
        ),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert problem(loser)["code"] == "overlap"
    async with build.sessionmaker() as session:
        statuses = (
            await session.scalars(
                select(WorkOrder.status).where(WorkOrder.id.in_([one.id, two.id]))
            )
        ).all()
    assert sorted(statuses) == ["new", "scheduled"]  # the loser wrote nothing


async def test_booking_refusals_write_nothing(client: Any, build: Builder) -> None:
    area = await build.area()
    elsewhere = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    unqualified = await build.technician_at(area, 0.5, 0.5, skills=["meter_check"])
    outsider = await build.technician_at(elsewhere, 0.5, 0.5)
    assert tech.technician is not None
    order = await build.order(area)
    day = local_day(area)
    yesterday = local_day(area, -1)
    taken = await build.order(area, status="scheduled")
    await build.visit(taken, tech.technician, start=local(area, day, 14), hours=2)
    tech_id = str(tech.actor.technician_id)
    cases = [
        ({"window": window(area, yesterday, 11, 13), "agreed_by": AGREED}, 422, "in_the_past"),
        ({"window": window(area, day, 9, 13), "agreed_by": AGREED}, 422, "too_wide"),
        (
            {"window": window(area, day, 18, 20), "agreed_by": AGREED, "technician_id": tech_id},
            422,
            "outside_shift",
        ),
        ({"window": window(area, day, 11, 13)}, 422, None),  # no agreement record
        (
            {
                "window": window(area, day, 11, 13),
                "agreed_by": AGREED,
                "technician_id": str(unqualified.actor.technician_id),
            },
            422,
            "unqualified",
        ),
        (
            {
                "window": window(area, day, 11, 13),
                "agreed_by": AGREED,
                "technician_id": str(outsider.actor.technician_id),
            },
            422,
            "outside_territory",
        ),
        (
            {"window": window(area, day, 15, 17), "agreed_by": AGREED, "technician_id": tech_id},
            409,
            "overlap",
        ),
        (
            {
                "window": {
                    "start": local(area, day, 12).isoformat(),
                    "end": local(area, day, 11).isoformat(),
                },
                "agreed_by": AGREED,
            },
            400,
            None,
        ),
        (
            {"window": window(area, day, 11, 13), "agreed_by": {"name": "X", "channel": "pigeon"}},
            400,
            None,
        ),
    ]
    visits_before = await build.count(Visit)
    audit_before = await build.count(AuditEntry)
    for body, status, code in cases:
        response = await _book(client, dispatcher, order.id, body)
        assert response.status_code == status, (body, response.text)
        details = problem(response)
        if code:
            assert details["code"] == code, details
    assert await build.count(Visit) == visits_before
    assert await build.count(AuditEntry) == audit_before
    fetched = await client.get(f"/api/v1/work-orders/{order.id}", headers=dispatcher.headers)
    assert fetched.json()["status"] == "new"


async def test_reschedule_needs_reason_and_agreement(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    await build.technician_at(area, 0.5, 0.5)
    order = await build.order(area)
    day = local_day(area)
    visit = (
        await _book(
            client, dispatcher, order.id, {"window": window(area, day, 9, 11), "agreed_by": AGREED}
        )
    ).json()
    url = f"/api/v1/visits/{visit['id']}/reschedule"
    missing = await client.post(
        url, json={"window": window(area, day, 13, 15)}, headers=dispatcher.headers
    )
    assert missing.status_code == 422
    assert {e["field"] for e in problem(missing)["errors"]} == {"reason_code", "agreed_by"}
    moved = await client.post(
        url,
        json={
            "window": window(area, day, 13, 15),
            "reason_code": "customer_request",
            "agreed_by": {"name": "Ерлан", "channel": "sms"},
        },
        headers=dispatcher.headers,
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert datetime.fromisoformat(body["window"]["start"]) == local(area, day, 13)
    assert body["last_change_reason"] == "customer_request"
    assert body["agreement_channel"] == "sms"
    entries = await build.count(
        AuditEntry, AuditEntry.entity_id == visit["id"], AuditEntry.action == "visit.rescheduled"
    )
    assert entries == 1


async def test_reassign_for_conflict_of_interest(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    relative = await build.technician_at(area, 0.5, 0.5)
    colleague = await build.technician_at(area, 0.6, 0.6)
    unqualified = await build.technician_at(area, 0.5, 0.5, skills=["meter_check"])
    order = await build.order(area)
    day = local_day(area)
    visit = (
        await _book(
            client,
            dispatcher,
            order.id,
            {
                "window": window(area, day, 9, 11),
                "agreed_by": AGREED,
                "technician_id": str(relative.actor.technician_id),
            },
        )
    ).json()
    url = f"/api/v1/visits/{visit['id']}/reassign"
    no_reason = await client.post(
        url, json={"technician_id": str(colleague.actor.technician_id)}, headers=dispatcher.headers
    )
    assert no_reason.status_code == 422
    refused = await client.post(
        url,
        json={
            "technician_id": str(unqualified.actor.technician_id),
            "reason_code": "conflict_of_interest",
        },
        headers=dispatcher.headers,
    )
    assert refused.status_code == 422
    assert problem(refused)["code"] == "unqualified"
    moved = await client.post(
        url,
        json={
            "technician_id": str(colleague.actor.technician_id),
            "reason_code": "conflict_of_interest",
        },
        headers=dispatcher.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["technician_id"] == str(colleague.actor.technician_id)
    assert moved.json()["window"] == visit["window"]
    # The relative no longer sees the order; the colleague does.
    assert (
        await client.get(f"/api/v1/work-orders/{order.id}", headers=relative.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/work-orders/{order.id}", headers=colleague.headers)
    ).status_code == 200


async def test_cancel_visit_returns_order_to_new(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    await build.technician_at(area, 0.5, 0.5)
    order = await build.order(area)
    day = local_day(area)
    visit = (
        await _book(
            client, dispatcher, order.id, {"window": window(area, day, 9, 11), "agreed_by": AGREED}
        )
    ).json()
    no_reason = await client.post(
        f"/api/v1/visits/{visit['id']}/cancel", json={}, headers=dispatcher.headers
    )
    assert no_reason.status_code == 400
    cancelled = await client.post(
        f"/api/v1/visits/{visit['id']}/cancel",
        json={"reason": "Клиент уехал"},
        headers=dispatcher.headers,
    )
    assert cancelled.json()["status"] == "cancelled"
    fetched = await client.get(f"/api/v1/work-orders/{order.id}", headers=dispatcher.headers)
    assert fetched.json()["status"] == "new"
    rebooked = await _book(
        client, dispatcher, order.id, {"window": window(area, day, 9, 11), "agreed_by": AGREED}
    )
    assert rebooked.status_code == 201  # the cancelled window is free again


async def test_day_plan_orders_visits_with_travel_and_lateness(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    day = local_day(area)
    first = await build.order(area, status="scheduled")
    second = await build.order(area, status="scheduled")
    await build.visit(second, tech.technician, start=local(area, day, 13), hours=1)
    await build.visit(first, tech.technician, start=local(area, day, 9), hours=2)
    plan = await client.get(
        f"/api/v1/technicians/{tech.actor.technician_id}/day",
        params={"date": day.isoformat()},
        headers=dispatcher.headers,
    )
    assert plan.status_code == 200, plan.text
    stops = plan.json()["stops"]
    assert [s["work_order_id"] for s in stops] == [str(first.id), str(second.id)]
    assert stops[0]["distance_from_previous_km"] == 0  # home base at the site
    assert datetime.fromisoformat(stops[0]["predicted_arrival"]) == local(area, day, 9)
    assert [s["late"] for s in stops] == [False, False]
    own = await client.get(
        f"/api/v1/technicians/{tech.actor.technician_id}/day",
        params={"date": day.isoformat()},
        headers=tech.headers,
    )
    assert own.status_code == 200
    other = await build.technician_at(area, 0.5, 0.5)
    assert (
        await client.get(
            f"/api/v1/technicians/{tech.actor.technician_id}/day", headers=other.headers
        )
    ).status_code == 404


async def test_schedule_replace_and_bad_input(client: Any, build: Builder) -> None:
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    url = f"/api/v1/technicians/{tech.actor.technician_id}/schedule"
    week = {
        "time_zone": "Asia/Barnaul",
        "daily_capacity": 4,
        "shifts": [
            {"weekday": 0, "starts": "08:00:00", "ends": "12:00:00"},
            {"weekday": 0, "starts": "13:00:00", "ends": "17:00:00"},
        ],
    }
    replaced = await client.put(url, json=week, headers=supervisor.headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == week
    overlapping = {
        **week,
        "shifts": [
            {"weekday": 1, "starts": "08:00:00", "ends": "12:00:00"},
            {"weekday": 1, "starts": "11:00:00", "ends": "15:00:00"},
        ],
    }
    for body, status in (
        (overlapping, 422),
        ({**week, "time_zone": "Mars/Base"}, 422),
        ({**week, "shifts": [{"weekday": 7, "starts": "08:00:00", "ends": "09:00:00"}]}, 400),
        ({**week, "shifts": [{"weekday": 2, "starts": "10:00:00", "ends": "09:00:00"}]}, 400),
    ):
        response = await client.put(url, json=body, headers=supervisor.headers)
        assert response.status_code == status, (body, response.text)
        problem(response)
    assert (await client.get(url, headers=supervisor.headers)).json() == week
