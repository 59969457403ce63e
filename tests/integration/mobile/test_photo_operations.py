"""The technician takes a photo back or puts another in its place, until the act is frozen."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from sqlalchemy import func, select

import reports
from service.db.models import Act, AuditEntry, ChecklistAnswer, Photo, SyncOperation
from tests import photo_samples
from tests.e2e.visit_flow import Phone as VisitPhone
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, log_in, op

pytestmark = pytest.mark.asyncio


async def push(client: Any, field: Field, *operations: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post(
        "/mobile/v1/sync/push",
        json={"operations": list(operations)},
        headers=field.phone.headers(),
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def upload(
    client: Any, field: Field, *, confirm: bool = True, step_id: str = "photo_before"
) -> str:
    """A real JPEG uploaded (and confirmed) for the field visit; its photo id."""
    data = photo_samples.jpeg()
    started = await client.post(
        "/mobile/v1/photos/uploads",
        json={
            "visit_id": str(field.visit.id),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": "image/jpeg",
            "step_id": step_id,
        },
        headers=field.phone.headers(),
    )
    assert started.status_code == 201, started.text
    photo = started.json()
    parts = urlsplit(photo["upload"]["url"])
    put = await client.put(
        f"{parts.path}?{parts.query}", content=data, headers=photo["upload"]["headers"]
    )
    assert put.status_code < 300, put.text
    if confirm:
        confirmed = await client.post(
            f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
        )
        assert confirmed.status_code == 200, confirmed.text
    return str(photo["id"])


async def photo_row(build: Builder, photo_id: str) -> Photo:
    async with build.sessionmaker() as session:
        return await session.get_one(Photo, photo_id)


async def on_site_with_checklist_done(client: Any, field: Field) -> VisitPhone:
    """Arrive and answer every step up to the signature (photo steps with real photos)."""
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = VisitPhone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"])
    return phone


async def current_answer(build: Builder, visit_id: Any, step_id: str) -> ChecklistAnswer:
    async with build.sessionmaker() as session:
        row = await session.scalar(
            select(ChecklistAnswer)
            .where(ChecklistAnswer.visit_id == visit_id, ChecklistAnswer.step_id == step_id)
            .order_by(ChecklistAnswer.id.desc())
            .limit(1)
        )
    assert row is not None
    return row


async def test_remove_is_applied_once_and_a_replay_answers_the_same(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    photo_id = await upload(client, field)
    key = (await photo_row(build, photo_id)).object_key
    assert await app.state.blob_store.head(key) is not None
    removal = op(field.visit.id, "photo_removed", {"photo_id": photo_id, "reason": "blurred"})
    [first] = await push(client, field, removal)
    assert first["status"] == "applied", first
    assert first["result"] == {"photo_id": photo_id, "status": "removed"}
    row = await photo_row(build, photo_id)
    assert row.status == "removed"
    assert row.status_reason == "blurred"
    assert row.removed_at is not None
    assert await app.state.blob_store.head(key) is None
    # The phone did not hear the answer and sends it again: same outcome, nothing applied twice.
    [replayed] = await push(client, field, removal)
    assert replayed["status"] == "duplicate"
    assert replayed["original_status"] == "applied"
    assert replayed["result"] == first["result"]
    async with build.sessionmaker() as session:
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "photo.removed", AuditEntry.entity_id == photo_id)
        )
    assert audits == 1
    # The same id with other data is not a replay.
    altered = {**removal, "payload": {"photo_id": photo_id, "reason": "other"}}
    [reused] = await push(client, field, altered)
    assert reused["code"] == "id_reused"
    # A removed photo cannot be attached any more.
    [attach] = await push(
        client,
        field,
        op(field.visit.id, "photo_attached", {"photo_id": photo_id, "step_id": "photo_before"}),
    )
    assert attach["status"] == "rejected"


async def test_a_second_removal_of_the_same_photo_is_a_clear_conflict(
    client: Any, build: Builder, field: Field
) -> None:
    photo_id = await upload(client, field)
    [first] = await push(client, field, op(field.visit.id, "photo_removed", {"photo_id": photo_id}))
    assert first["status"] == "applied"
    [second] = await push(
        client, field, op(field.visit.id, "photo_removed", {"photo_id": photo_id})
    )
    assert second["status"] == "conflict"
    assert second["code"] == "photo_removed"


async def test_replace_swaps_the_photo_in_its_answer_and_the_act(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    await on_site_with_checklist_done(client, field)
    before = await current_answer(build, field.visit.id, "photo_before")
    [old_id] = before.photo_ids
    old_key = (await photo_row(build, old_id)).object_key
    new_id = await upload(client, field)
    replacement = op(
        field.visit.id,
        "photo_replaced",
        {"photo_id": old_id, "replacement_id": new_id},
        minutes=30,
    )
    [result] = await push(client, field, replacement)
    assert result["status"] == "applied", result
    assert result["result"] == {
        "photo_id": old_id,
        "status": "replaced",
        "replaced_by_id": new_id,
    }
    after = await current_answer(build, field.visit.id, "photo_before")
    assert after.photo_ids == [new_id]
    assert after.id != before.id  # a new answer: the old one stays as history
    old = await photo_row(build, old_id)
    assert old.status == "replaced"
    assert str(old.replaced_by_id) == new_id
    assert await app.state.blob_store.head(old_key) is None
    [again] = await push(client, field, replacement)
    assert again["status"] == "duplicate"
    assert again["result"] == result["result"]
    # The act shows the replacement and not the photo it replaced.
    started = await client.post(
        f"/mobile/v1/visits/{field.visit.id}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    async with build.sessionmaker() as session:
        act = await session.scalar(select(Act).where(Act.visit_id == field.visit.id))
    assert act is not None
    shas = {p.sha256 for p in reports.parse_snapshot(act.snapshot_json).photos}
    assert (await photo_row(build, new_id)).sha256 in shas
    assert old.sha256 not in shas


async def test_removing_the_only_photo_of_a_required_step_is_refused(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    await on_site_with_checklist_done(client, field)
    [photo_id] = (await current_answer(build, field.visit.id, "photo_before")).photo_ids
    key = (await photo_row(build, photo_id)).object_key
    [result] = await push(
        client, field, op(field.visit.id, "photo_removed", {"photo_id": photo_id}, minutes=30)
    )
    assert result["status"] == "rejected", result
    assert result["code"] == "photo_count"
    assert result["message"].endswith("Замените фото вместо удаления.")  # Russian by default
    assert (await photo_row(build, photo_id)).status == "stored"
    assert await app.state.blob_store.head(key) is not None
    assert (await current_answer(build, field.visit.id, "photo_before")).photo_ids == [photo_id]


async def test_photos_cannot_change_once_the_act_is_frozen(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    await on_site_with_checklist_done(client, field)
    [photo_id] = (await current_answer(build, field.visit.id, "photo_after")).photo_ids
    spare = await upload(client, field, step_id="photo_after")
    started = await client.post(
        f"/mobile/v1/visits/{field.visit.id}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    results = await push(
        client,
        field,
        op(field.visit.id, "photo_removed", {"photo_id": spare}, minutes=30),
        op(
            field.visit.id,
            "photo_replaced",
            {"photo_id": photo_id, "replacement_id": spare},
            minutes=31,
        ),
    )
    for result in results:
        assert result["status"] == "conflict", result
        assert result["code"] == "act_frozen"
    for kept in (photo_id, spare):
        row = await photo_row(build, kept)
        assert row.status == "stored"
        assert await app.state.blob_store.head(row.object_key) is not None


async def test_another_technicians_photo_is_not_found(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    theirs = await upload(client, field)
    other = await build.technician_at(field.area, 0.4, 0.4)
    assert other.technician is not None
    order = await build.order(field.area, status="scheduled")
    visit = await build.visit(
        order, other.technician, start=datetime.now(UTC) - timedelta(minutes=30), hours=3
    )
    other_field = Field(
        field.area, field.dispatcher, other, await log_in(client, other), order, visit
    )
    mine = await upload(client, other_field)
    results = await push(
        client,
        other_field,
        # on the other technician's own visit, naming a photo that is not theirs
        op(visit.id, "photo_removed", {"photo_id": theirs}),
        op(visit.id, "photo_replaced", {"photo_id": theirs, "replacement_id": mine}),
        op(visit.id, "photo_replaced", {"photo_id": mine, "replacement_id": theirs}),
        # on the first technician's visit
        op(field.visit.id, "photo_removed", {"photo_id": theirs}),
    )
    for result in results:
        assert result["status"] == "rejected", result
        assert result["code"] == "not_found"
    for photo_id in (theirs, mine):
        row = await photo_row(build, photo_id)
        assert row.status == "stored"
        assert await app.state.blob_store.head(row.object_key) is not None


async def test_bad_photo_operations_are_refused_and_change_nothing(
    client: Any, build: Builder, field: Field
) -> None:
    photo_id = await upload(client, field)
    pending = await upload(client, field, confirm=False)
    cases = [
        ({"photo_id": photo_id}, "photo_replaced", "rejected", "invalid_payload"),
        ({"photo_id": "not-a-uuid"}, "photo_removed", "rejected", "invalid_payload"),
        ({"photo_id": photo_id, "extra": 1}, "photo_removed", "rejected", "invalid_payload"),
        ({"photo_id": str(uuid.uuid4())}, "photo_removed", "rejected", "not_found"),
        (
            {"photo_id": photo_id, "replacement_id": photo_id},
            "photo_replaced",
            "rejected",
            "same_photo",
        ),
        (
            {"photo_id": photo_id, "replacement_id": pending},
            "photo_replaced",
            "conflict",
            "replacement_not_confirmed",
        ),
    ]
    for payload, kind, status, code in cases:
        [result] = await push(client, field, op(field.visit.id, kind, payload))
        assert (result["status"], result.get("code")) == (status, code), (payload, result)
    assert (await photo_row(build, photo_id)).status == "stored"
    assert (await photo_row(build, pending)).status == "pending"
    async with build.sessionmaker() as session:
        recorded = await session.scalar(
            select(func.count())
            .select_from(SyncOperation)
            .where(SyncOperation.visit_id == field.visit.id, SyncOperation.status == "applied")
        )
    assert recorded == 0


async def test_removing_one_of_two_photos_keeps_the_other_in_the_answer(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    phone = await on_site_with_checklist_done(client, field)
    [first] = (await current_answer(build, field.visit.id, "photo_after")).photo_ids
    second = await upload(client, field, step_id="photo_after")
    here = {"lat": phone.site["lat"], "lon": phone.site["lon"], "accuracy_m": 5}
    [answered] = await push(
        client,
        field,
        op(
            field.visit.id,
            "checklist_answer",
            {"step_id": "photo_after", "photo_ids": [first, second]},
            minutes=25,
            location=here,
        ),
    )
    assert answered["status"] == "applied", answered
    [removed] = await push(
        client, field, op(field.visit.id, "photo_removed", {"photo_id": first}, minutes=30)
    )
    assert removed["status"] == "applied", removed
    answer = await current_answer(build, field.visit.id, "photo_after")
    assert answer.photo_ids == [second]
    assert answer.location is not None  # the evidence the step asks for is kept
    assert (await photo_row(build, first)).status == "removed"
