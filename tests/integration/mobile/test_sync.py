"""Offline sync: operations applied exactly once, in device order, each on its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.db.models import ChecklistAnswer, SyncOperation, Visit, WorkOrder
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.horizon import horizon_passed
from tests.integration.mobile.conftest import Field, op

pytestmark = pytest.mark.asyncio
BEFORE = [
    "supervisor_check",
    "materials_ready",
    "overshoes_on_hand",
    "visit_time_known",
    "support_contacts_known",
    "standing_rules_ack",
]


async def push(
    client: Any, field: Field, operations: list[dict[str, Any]], key: str | None = None
) -> Any:
    return await client.post(
        "/mobile/v1/sync/push", json={"operations": operations}, headers=field.phone.headers(key)
    )


async def test_a_visit_from_the_road_to_the_door(client: Any, build: Builder, field: Field) -> None:
    site = field.area.point()
    operations = [
        op(field.visit.id, "en_route", {"eta": "2099-01-01T10:00:00+05:00"}, minutes=0),
        *[
            op(
                field.visit.id,
                "checklist_answer",
                {"step_id": s, "value": True},
                minutes=-5 + i / 10,
            )
            for i, s in enumerate(BEFORE)
        ],
        op(
            field.visit.id,
            "arrived",
            location={"lat": site["lat"], "lon": site["lon"], "accuracy_m": 12},
            minutes=10,
        ),
        op(field.visit.id, "note", {"text": "Домофон не работает"}, minutes=11),
    ]
    response = await push(client, field, operations)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == [o["id"] for o in operations]
    assert [r["status"] for r in results] == ["applied"] * len(operations)
    arrived = results[-2]["result"]
    assert arrived == {"status": "on_site", "distance_m": 0.0, "flagged": False}
    async with build.sessionmaker() as session:
        visit = await session.get_one(Visit, field.visit.id)
        order = await session.get_one(WorkOrder, field.order.id)
    assert visit.status == "on_site"
    assert visit.en_route_at is not None
    assert order.status == "in_progress"
    assert await build.count(ChecklistAnswer, ChecklistAnswer.visit_id == field.visit.id) == 6

    # The same push ten times more changes nothing: every operation is a duplicate.
    for _ in range(10):
        again = await push(client, field, operations)
        assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * len(operations)
        assert again.json()["results"][-2]["result"] == arrived
    assert await build.count(ChecklistAnswer, ChecklistAnswer.visit_id == field.visit.id) == 6
    assert await build.count(SyncOperation, SyncOperation.visit_id == field.visit.id) == len(
        operations
    )


async def test_device_order_not_batch_order(client: Any, field: Field) -> None:
    site = field.area.point()
    arrived = op(
        field.visit.id, "arrived", location={"lat": site["lat"], "lon": site["lon"]}, minutes=10
    )
    en_route = op(field.visit.id, "en_route", {"eta": "2099-01-01T10:00:00+05:00"}, minutes=1)
    response = await push(client, field, [arrived, en_route])
    assert [r["status"] for r in response.json()["results"]] == ["applied", "applied"]


async def test_one_bad_operation_does_not_lose_the_others(client: Any, field: Field) -> None:
    good = op(field.visit.id, "checklist_answer", {"step_id": "supervisor_check", "value": True})
    wrong_kind = op(
        field.visit.id, "checklist_answer", {"step_id": "materials_ready", "value": 7}, minutes=1
    )
    unknown_step = op(
        field.visit.id, "checklist_answer", {"step_id": "dance", "value": True}, minutes=2
    )
    bad_payload = op(field.visit.id, "note", {"txt": "typo"}, minutes=3)
    no_location = op(field.visit.id, "arrived", minutes=4)
    response = await push(client, field, [good, wrong_kind, unknown_step, bad_payload, no_location])
    results = response.json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("rejected", "wrong_type"),
        ("rejected", "unknown_step"),
        ("rejected", "invalid_payload"),
        ("rejected", "no_location"),
    ]
    # A rejected operation is remembered too: resending it gives the same answer.
    again = await push(client, field, [wrong_kind])
    assert again.json()["results"][0] == {
        **results[1],
        "status": "duplicate",
        "original_status": "rejected",
    }


async def test_reused_operation_id_with_other_data(client: Any, field: Field) -> None:
    first = op(field.visit.id, "note", {"text": "первая"})
    await push(client, field, [first])
    forged = {**first, "payload": {"text": "другая"}}
    result = (await push(client, field, [forged])).json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "id_reused")


async def test_other_technicians_visit_reassigned_and_cancelled(
    client: Any, build: Builder, field: Field
) -> None:
    # Reassigning checks the colleague's shifts (09:00-18:00 in Almaty): use tomorrow morning
    # for the visit handed over and the afternoon for the colleague's own, so the two never
    # overlap whatever the time of day the suite runs at.
    tomorrow = datetime.now(ZoneInfo("Asia/Almaty")).date() + timedelta(days=1)
    colleague = await build.technician_at(field.area, 0.5, 0.5)
    assert colleague.technician is not None
    theirs = await build.visit(
        await build.order(field.area, status="scheduled"),
        colleague.technician,
        start=datetime.combine(tomorrow, time(15), tzinfo=ZoneInfo("Asia/Almaty")),
    )
    result = (await push(client, field, [op(theirs.id, "note", {"text": "x"})])).json()["results"]
    assert (result[0]["status"], result[0]["code"]) == ("rejected", "not_found")

    assert field.technician.technician is not None
    mine = await build.visit(
        await build.order(field.area, status="scheduled"),
        field.technician.technician,
        start=datetime.combine(tomorrow, time(10), tzinfo=ZoneInfo("Asia/Almaty")),
    )
    moved = await client.post(
        f"/api/v1/visits/{mine.id}/reassign",
        json={"technician_id": str(colleague.actor.technician_id), "reason_code": "workload"},
        headers=field.dispatcher.headers,
    )
    assert moved.status_code == 200, moved.text
    result = (await push(client, field, [op(mine.id, "note", {"text": "x"})])).json()
    assert (result["results"][0]["status"], result["results"][0]["code"]) == (
        "conflict",
        "reassigned",
    )


async def test_far_arrival_is_kept_and_flagged(client: Any, field: Field) -> None:
    far = field.area.point(0.55, 0.5)  # ~3 km away at these latitudes
    result = (
        await push(
            client,
            field,
            [
                op(
                    field.visit.id,
                    "arrived",
                    location={"lat": far["lat"], "lon": far["lon"], "accuracy_m": 10},
                )
            ],
        )
    ).json()["results"][0]
    assert result["status"] == "applied"
    assert result["result"]["flagged"] is True
    assert result["result"]["distance_m"] > 1000


async def test_concurrent_retries_apply_each_operation_once(
    client: Any, build: Builder, field: Field
) -> None:
    operations = [
        op(field.visit.id, "checklist_answer", {"step_id": s, "value": True}, minutes=i)
        for i, s in enumerate(BEFORE)
    ]
    # The phone lost the first response and retried at once with another key.
    first, second = await asyncio.gather(
        push(client, field, operations), push(client, field, operations)
    )
    statuses = sorted(r["status"] for r in first.json()["results"] + second.json()["results"])
    assert statuses == ["applied"] * 6 + ["duplicate"] * 6
    assert await build.count(ChecklistAnswer, ChecklistAnswer.visit_id == field.visit.id) == 6


async def test_outcome_needs_the_checklist(client: Any, field: Field) -> None:
    site = field.area.point()
    await push(
        client,
        field,
        [op(field.visit.id, "arrived", location={"lat": site["lat"], "lon": site["lon"]})],
    )
    result = (
        await push(
            client, field, [op(field.visit.id, "outcome", {"outcome": "completed"}, minutes=5)]
        )
    ).json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "checklist_blocks_outcome")


async def test_no_access_puts_the_order_on_hold(client: Any, build: Builder, field: Field) -> None:
    site = field.area.point()
    here = {"lat": site["lat"], "lon": site["lon"], "accuracy_m": 5}
    before = [
        op(field.visit.id, "checklist_answer", {"step_id": s, "value": True}, minutes=i)
        for i, s in enumerate(BEFORE)
    ]
    declared = op(
        field.visit.id,
        "outcome",
        {
            "outcome": "no_access",
            "reason": "Никого нет дома",
            "answers": [{"step_id": "no_access_reason", "value": "customer_absent"}],
        },
        minutes=15,
    )
    early = {**declared, "id": str(uuid.uuid4())}
    premature = (await push(client, field, [*before, early])).json()["results"]
    assert premature[-1]["code"] == "checklist_blocks_outcome"  # its gate (geo check) is not met
    results = (
        await push(
            client,
            field,
            [
                op(field.visit.id, "arrived", location=here, minutes=8),
                op(
                    field.visit.id,
                    "checklist_answer",
                    {"step_id": "geo_arrival"},
                    location=here,
                    minutes=9,
                ),
                declared,
            ],
        )
    ).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "applied"], results
    async with build.sessionmaker() as session:
        visit = await session.get_one(Visit, field.visit.id)
        order = await session.get_one(WorkOrder, field.order.id)
    assert visit.status == "no_access"
    assert order.status == "on_hold"
    assert "no_access" in (order.hold_reason or "")
    closed = (
        await push(client, field, [op(field.visit.id, "note", {"text": "x"}, minutes=16)])
    ).json()["results"][0]
    assert (closed["status"], closed["code"]) == ("conflict", "visit_closed")


async def test_bad_batches_are_refused_whole(client: Any, field: Field) -> None:
    for body in ({"operations": []}, {"operations": [{"id": "x"}]}, {"ops": []}):
        response = await client.post(
            "/mobile/v1/sync/push", json=body, headers=field.phone.headers()
        )
        assert response.status_code == 400, body
        problem(response)


async def pull_until_changed(
    client: Any, build: Builder, field: Field, cursor: str
) -> tuple[list[dict[str, Any]], str]:
    """Pull until something arrives (or 5 s pass), collecting every change once.

    A change shows once every transaction older than it has finished, cluster-wide; an
    unrelated long transaction can delay it, never lose or repeat it: the pulls start once
    the horizon has passed what the test committed (``horizon_passed``).
    """
    await horizon_passed(build.sessionmaker)
    changes: list[dict[str, Any]] = []
    for _ in range(50):
        page = (
            await client.get(
                "/mobile/v1/sync/pull", params={"cursor": cursor}, headers=field.phone.headers()
            )
        ).json()
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if changes:
            break
        await asyncio.sleep(0.1)
    return changes, cursor


async def test_pull_returns_changes_once_with_a_monotonic_cursor(
    client: Any, build: Builder, field: Field
) -> None:
    headers = field.phone.headers()
    await horizon_passed(build.sessionmaker)
    first = (await client.get("/mobile/v1/sync/pull", headers=headers)).json()
    assert str(field.visit.id) in {c["visit_id"] for c in first["changes"]}
    assert any(key.startswith("repair@") for key in first["templates"])
    cursor = first["cursor"]
    quiet = (
        await client.get("/mobile/v1/sync/pull", params={"cursor": cursor}, headers=headers)
    ).json()
    assert quiet["changes"] == []
    assert int(quiet["cursor"]) >= int(cursor)

    cancelled = await client.post(
        f"/api/v1/visits/{field.visit.id}/cancel",
        json={"reason": "Клиент отменил"},
        headers=field.dispatcher.headers,
    )
    assert cancelled.status_code == 200
    after, after_cursor = await pull_until_changed(client, build, field, quiet["cursor"])
    assert [(c["kind"], c["visit_id"], c.get("visit")) for c in after] == [
        ("visit.cancelled", str(field.visit.id), None)
    ]
    again = (
        await client.get("/mobile/v1/sync/pull", params={"cursor": after_cursor}, headers=headers)
    ).json()
    assert again["changes"] == []
    bad = await client.get("/mobile/v1/sync/pull", params={"cursor": "abc"}, headers=headers)
    assert bad.status_code == 422


async def test_pull_sees_new_assignments(client: Any, build: Builder, field: Field) -> None:
    # The field's own assignment must be behind the first cursor, or it is pulled below.
    await horizon_passed(build.sessionmaker)
    cursor = (await client.get("/mobile/v1/sync/pull", headers=field.phone.headers())).json()[
        "cursor"
    ]
    order = await build.order(field.area)
    zone = ZoneInfo(field.area.territory.time_zone)
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(10), tzinfo=zone)
    booked = await client.post(
        f"/api/v1/work-orders/{order.id}/visits",
        json={
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
            "agreed_by": {"name": "Клиент", "channel": "phone"},
            "technician_id": str(field.technician.actor.technician_id),
        },
        headers=field.dispatcher.headers,
    )
    assert booked.status_code == 201, booked.text
    changes, _ = await pull_until_changed(client, build, field, cursor)
    assert [c["kind"] for c in changes] == ["visit.assigned"]
    assert changes[0]["visit"]["work_order_number"] == order.number
    assert changes[0]["visit"]["customer"]["language"] == "kk"
