"""The set-wise push: few round trips, and the same outcome as the operations one by one."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from service.db.models import AuditEntry, ChecklistAnswer, SyncOperation, Visit, VisitRecord
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, Phone, log_in, op

pytestmark = pytest.mark.asyncio


async def push(client: Any, phone: Phone, operations: list[dict[str, Any]]) -> list[Any]:
    response = await client.post(
        "/mobile/v1/sync/push", json={"operations": operations}, headers=phone.headers()
    )
    assert response.status_code == 200, response.text
    results: list[Any] = response.json()["results"]
    return results


_counting: ContextVar[list[str] | None] = ContextVar("counting", default=None)


@contextmanager
def statements(client: Any) -> Iterator[list[str]]:
    """Every statement the app sends for this test's requests (BEGIN and COMMIT included).

    A context variable set here reaches the app's tasks started from this block (tasks copy
    the context they start in); statements from tasks started before it (a request an earlier
    test left running) are not this block's and are not counted.
    """
    sent: list[str] = []
    engine = client.app.state.engine.sync_engine
    token = _counting.set(sent)

    def note(statement: str) -> None:
        if _counting.get() is sent:
            sent.append(statement)

    def on_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        note(statement)

    def on_begin(conn: Any) -> None:
        note("BEGIN")

    def on_commit(conn: Any) -> None:
        note("COMMIT")

    def on_rollback(conn: Any) -> None:
        note("ROLLBACK")

    listeners = [
        ("before_cursor_execute", on_execute),
        ("begin", on_begin),
        ("commit", on_commit),
        ("rollback", on_rollback),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield sent
    finally:
        _counting.reset(token)
        for name, listener in listeners:
            event.remove(engine, name, listener)


def notes(visit_id: Any, count: int) -> list[dict[str, Any]]:
    return [op(visit_id, "note", {"text": f"заметка {n}"}, minutes=n / 100) for n in range(count)]


async def test_a_hundred_operations_take_at_most_fifteen_statements(
    client: Any, build: Builder, field: Field
) -> None:
    await push(client, field.phone, notes(field.visit.id, 5))  # a warm connection and key table
    hundred = notes(field.visit.id, 100)
    with statements(client) as sent:
        results = await push(client, field.phone, hundred)
    assert [r["status"] for r in results] == ["applied"] * 100
    # The counter saw the request's work (it counts this task's statements only).
    assert sum(s.startswith("INSERT INTO sync_operations") for s in sent) == 1
    assert len(sent) <= 15, "\n".join(sent)
    # Five of the first push plus the hundred, each stored once.
    assert await build.count(VisitRecord, VisitRecord.visit_id == field.visit.id) == 105

    # Replayed byte for byte as a new request (another key): one lookup finds all hundred
    # duplicates. (Rebuilding them could move device_time across a second, and an id sent
    # again with other content is rightly rejected.)
    with statements(client) as sent:
        again = await push(client, field.phone, hundred)
    assert len(sent) <= 12, "\n".join(sent)
    assert {r["status"] for r in again} == {"duplicate"}


async def test_savepoints_reuse_one_name(client: Any, field: Field) -> None:
    operations = [
        op(field.visit.id, "checklist_answer", {"step_id": "supervisor_check", "value": True}),
        op(field.visit.id, "checklist_answer", {"step_id": "materials_ready", "value": 7}),
        op(field.visit.id, "checklist_answer", {"step_id": "overshoes_on_hand", "value": True}),
        op(field.visit.id, "arrived", minutes=1),
    ]
    with statements(client) as sent:
        results = await push(client, field.phone, operations)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "rejected"]
    savepoint_texts = {s for s in sent if "SAVEPOINT" in s}
    assert savepoint_texts == {
        "SAVEPOINT sa_savepoint",
        "RELEASE SAVEPOINT sa_savepoint",
        "ROLLBACK TO SAVEPOINT sa_savepoint",
    }


# Batch against one by one ----------------------------------------------------------------------

# Visits an operation may name: the technician's two visits, another technician's, none at all.
TARGETS = ("first", "second", "foreign", "missing")
KINDS = (
    "note",
    "bad_note",
    "equipment",
    "en_route",
    "arrived",
    "arrived_nowhere",
    "answer",
    "wrong_answer",
    "no_access",
)


@dataclass(frozen=True)
class Planned:
    """One operation of a random batch, before it is given ids in a world."""

    name: int  # operations with the same name share an id
    kind: str
    target: str
    minutes: int
    text: str


@st.composite
def batches(draw: st.DrawFn) -> list[Planned]:
    size = draw(st.integers(min_value=1, max_value=14))
    planned: list[Planned] = []
    for n in range(size):
        again = planned and draw(st.integers(0, 5)) == 0
        if again:
            earlier = draw(st.sampled_from(planned))
            if draw(st.booleans()):
                planned.append(earlier)  # the same operation delivered twice
            else:  # its id reused for other data
                planned.append(Planned(earlier.name, "note", earlier.target, 3, "другое"))
            continue
        planned.append(
            Planned(
                name=n,
                kind=draw(st.sampled_from(KINDS)),
                target=draw(st.sampled_from(TARGETS[:2]) | st.sampled_from(TARGETS)),
                minutes=draw(st.integers(0, 6)),  # ties in device time are common
                text=draw(st.sampled_from(["Домофон", "no bell", ""])),
            )
        )
    return planned


@dataclass
class World:
    """One technician's visits for one example, and the ids its operations get."""

    phone: Phone
    visits: dict[str, Any]
    ids: dict[int, str]

    def materialise(self, planned: Planned, site: dict[str, float]) -> dict[str, Any]:
        visit_id = self.visits[planned.target]
        op_id = uuid.UUID(self.ids.setdefault(planned.name, str(uuid.uuid4())))
        at = {"minutes": planned.minutes, "op_id": op_id}
        match planned.kind:
            case "note":
                return op(visit_id, "note", {"text": planned.text or "-"}, **at)
            case "bad_note":
                return op(visit_id, "note", {"txt": planned.text}, **at)
            case "equipment":
                items = [{"name": "ONT", "serial": f"SN-{planned.name}"}]
                return op(visit_id, "equipment_installed", {"items": items}, **at)
            case "en_route":
                return op(visit_id, "en_route", {"eta": "2099-01-01T10:00:00+05:00"}, **at)
            case "arrived":
                return op(visit_id, "arrived", location=site, **at)
            case "arrived_nowhere":
                return op(visit_id, "arrived", **at)
            case "answer":
                return op(
                    visit_id,
                    "checklist_answer",
                    {"step_id": "supervisor_check", "value": True},
                    **at,
                )
            case "wrong_answer":
                return op(
                    visit_id, "checklist_answer", {"step_id": "materials_ready", "value": 7}, **at
                )
        return op(visit_id, "outcome", {"outcome": "no_access", "reason": planned.text}, **at)


_windows = itertools.count(1)  # 0 would overlap the field's own visit


async def _world(build: Builder, field: Field, phone: Phone, foreign: Any) -> World:
    """Two fresh visits of the phone's technician (windows apart from every other example)."""
    technician = phone.person.technician
    assert technician is not None
    start = datetime.now(UTC) - timedelta(minutes=30) + timedelta(hours=8 * next(_windows))
    visits: dict[str, Any] = {"foreign": foreign, "missing": uuid.uuid4()}
    for target, offset in (("first", 0), ("second", 4)):
        order = await build.order(field.area, status="scheduled")
        visit = await build.visit(order, technician, start=start + timedelta(hours=offset))
        visits[target] = visit.id
    return World(phone, visits, {})


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result without the ids that differ between worlds."""
    kept = {k: v for k, v in result.items() if k != "id"}
    if isinstance(kept.get("result"), dict) and "answer_id" in kept["result"]:
        kept["result"] = {**kept["result"], "answer_id": "<id>"}
    return kept


async def _state(build: Builder, world: World) -> dict[str, Any]:
    """What the operations left behind on the world's own visits."""
    state: dict[str, Any] = {}
    async with build.sessionmaker() as session:
        for target in ("first", "second"):
            visit_id = world.visits[target]
            visit = await session.get_one(Visit, visit_id)
            records = await session.scalars(
                select(VisitRecord.kind).where(VisitRecord.visit_id == visit_id)
            )
            answers = await session.scalars(
                select(ChecklistAnswer.step_id).where(ChecklistAnswer.visit_id == visit_id)
            )
            operations = await session.execute(
                select(SyncOperation.status, SyncOperation.code).where(
                    SyncOperation.visit_id == visit_id
                )
            )
            audit = await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_type == "visit", AuditEntry.entity_id == str(visit_id))
                .order_by(AuditEntry.id)
            )
            state[target] = {
                "status": visit.status,
                "records": Counter(records),
                "answers": Counter(answers),
                "operations": Counter(tuple(row) for row in operations),
                "audit": list(audit),
            }
    return state


@pytest.fixture
async def worlds(client: Any, build: Builder, field: Field) -> tuple[Phone, Phone, Any]:
    """A second technician of the field's territory on a phone, and a third one's visit."""
    second = await build.technician_at(field.area, 0.5, 0.5)
    stranger = await build.technician_at(field.area, 0.5, 0.5)
    assert stranger.technician is not None
    order = await build.order(field.area, status="scheduled")
    foreign = await build.visit(order, stranger.technician)
    return field.phone, await log_in(client, second), foreign.id


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(planned=batches())
async def test_a_batch_ends_as_its_operations_one_by_one(
    client: Any,
    build: Builder,
    field: Field,
    worlds: tuple[Phone, Phone, Any],
    planned: list[Planned],
) -> None:
    batch_phone, single_phone, foreign = worlds
    site = field.area.point()
    batch_world = await _world(build, field, batch_phone, foreign)
    single_world = await _world(build, field, single_phone, foreign)
    batch_ops = [batch_world.materialise(p, site) for p in planned]
    single_ops = [single_world.materialise(p, site) for p in planned]

    batch_results = await push(client, batch_phone, batch_ops)
    # One by one, in the device order the batch promises (ties keep the batch order).
    single_results: dict[int, Any] = {}
    for index in sorted(range(len(planned)), key=lambda i: (planned[i].minutes, i)):
        (single_results[index],) = await push(client, single_phone, [single_ops[index]])

    assert [r["id"] for r in batch_results] == [o["id"] for o in batch_ops]
    assert [_comparable(r) for r in batch_results] == [
        _comparable(single_results[i]) for i in range(len(planned))
    ]
    assert await _state(build, batch_world) == await _state(build, single_world)
    # Sent again, the whole batch is answered from what was stored, nothing applied twice.
    replayed = await push(client, batch_phone, batch_ops)
    assert replayed == [_as_replayed(r) for r in batch_results]
    assert await _state(build, batch_world) == await _state(build, single_world)


def _as_replayed(first: dict[str, Any]) -> dict[str, Any]:
    """The answer to an operation sent again: its first outcome, marked as a duplicate."""
    if first["status"] == "duplicate" or first.get("code") == "id_reused":
        return first
    return {**first, "status": "duplicate", "original_status": first["status"]}
