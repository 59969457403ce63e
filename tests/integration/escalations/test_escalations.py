"""Escalation of SLA clocks on the real database: the job, its messages, acknowledgement."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from service.common.actor import Role
from service.db.models import AuditEntry, Escalation, OutboxMessage, WorkOrder, WorkOrderEvent
from service.errors import Forbidden
from service.escalations.services import EscalationService, escalate_clocks
from service.jobs import JOBS, jobs_for
from service.notifications.templates import render
from service.settings import EscalationSettings
from service.sla import kinds
from tests.conftest import problem
from tests.integration.builders import Area, Builder, Person
from tests.integration.sla.helpers import use_policy

pytestmark = pytest.mark.asyncio

BASE = "/api/v1/coordination/escalations"
# Head of unit one hour after a breach, to keep the timeline short.
SETTINGS = EscalationSettings(head_delay_minutes=60, apology_extension_minutes=1440)
STAFF = (Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR)
TARGETS = ("response", "arrival", "resolution")


async def _order(client: Any, area: Area, who: Person) -> dict[str, Any]:
    """An order registered through the API (its clocks start now)."""
    response = await client.post(
        "/api/v1/work-orders",
        json={
            "type": "repair",
            "priority": "high",
            "customer_id": str(area.customer.id),
            "site_id": str(area.site.id),
        },
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _policy(build: Builder) -> None:
    # response warns at 48 and is due at 60 min; arrival 72/90; resolution 96/120.
    await use_policy(build, priority="high", response=60, arrival=90, resolution=120)


async def _run(build: Builder, now: datetime) -> int:
    async with build.sessionmaker() as session:
        count = await escalate_clocks(session, None, settings=SETTINGS, now=now)
        await session.commit()
    return count


async def _escalations(build: Builder, order_id: uuid.UUID) -> list[Escalation]:
    async with build.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(Escalation)
                    .where(Escalation.work_order_id == order_id)
                    .order_by(Escalation.target, Escalation.level)
                )
            ).all()
        )


async def _outbox(build: Builder, number: str) -> list[OutboxMessage]:
    async with build.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.context["work_order_number"].astext == number)
                    .order_by(OutboxMessage.created_at, OutboxMessage.id)
                )
            ).all()
        )


async def _events(build: Builder, order_id: uuid.UUID, kind: str) -> list[WorkOrderEvent]:
    async with build.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(WorkOrderEvent).where(
                        WorkOrderEvent.work_order_id == order_id, WorkOrderEvent.kind == kind
                    )
                )
            ).all()
        )


def _levels(rows: list[Escalation]) -> set[tuple[str, str]]:
    return {(r.target, r.level) for r in rows}


def _by_event(messages: list[OutboxMessage]) -> dict[str, list[OutboxMessage]]:
    found: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        found.setdefault(message.event, []).append(message)
    return found


def _hour_after(now: datetime, hours: int) -> datetime:
    promised = now + timedelta(hours=hours)
    whole = promised.replace(minute=0, second=0, microsecond=0)
    return whole if whole == promised else whole + timedelta(hours=1)


async def test_a_clock_escalates_level_by_level_and_apologises_once(
    client: Any, build: Builder
) -> None:
    await _policy(build)
    area = await build.area()
    dispatchers = [await build.person(Role.DISPATCHER, area.territory) for _ in range(2)]
    await build.person(Role.DISPATCHER, area.territory, active=False)  # never told
    await build.person(Role.DISPATCHER, (await build.area()).territory)  # another territory
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    order = await _order(client, area, dispatchers[0])
    order_id, number = uuid.UUID(order["id"]), order["number"]
    registered = datetime.fromisoformat(order["created_at"])

    # Before any warning time: nothing.
    await _run(build, registered + timedelta(minutes=30))
    assert await _escalations(build, order_id) == []

    # 50 min: the response clock warns; both active dispatchers of the territory are told.
    at_50 = registered + timedelta(minutes=50)
    await _run(build, at_50)
    rows = await _escalations(build, order_id)
    assert _levels(rows) == {("response", "warning")}
    warning = rows[0]
    assert warning.recipient_role == "dispatcher"
    assert set(warning.recipient_ids) == {d.user.id for d in dispatchers}
    assert warning.due_at == registered + timedelta(minutes=60)
    messages = _by_event(await _outbox(build, number))
    assert set(messages) == {"escalation.warning"}
    assert {m.recipient_id for m in messages["escalation.warning"]} == {
        d.user.id for d in dispatchers
    }
    assert all(m.channel == "webhook" and m.urgent for m in messages["escalation.warning"])
    assert messages["escalation.warning"][0].context["target"] == "response"

    # Running the job again at the same or a later moment of the same level changes nothing.
    await _run(build, at_50)
    await _run(build, at_50 + timedelta(minutes=5))
    assert len(await _escalations(build, order_id)) == 1
    assert len(await _outbox(build, number)) == 2

    # 100 min: response and arrival are breached (arrival never warned: its deadline had
    # passed when the job first saw it), resolution warns. Coordinators hear of the breaches
    # and the customer gets one apology for the order, in Kazakh: not one per breached clock.
    at_100 = registered + timedelta(minutes=100)
    await _run(build, at_100)
    rows = await _escalations(build, order_id)
    assert _levels(rows) == {
        ("response", "warning"),
        ("response", "breach"),
        ("arrival", "breach"),
        ("resolution", "warning"),
    }
    breaches = [r for r in rows if r.level == "breach"]
    assert all(r.recipient_ids == [coordinator.user.id] for r in breaches)
    assert all(r.recipient_role == "coordinator" for r in breaches)
    promised = _hour_after(at_100, 24)
    assert sorted(str(r.customer_new_date) for r in breaches) == sorted([str(promised), "None"])
    messages = _by_event(await _outbox(build, number))
    assert len(messages["escalation.breach"]) == 2
    assert {m.recipient_id for m in messages["escalation.breach"]} == {coordinator.user.id}
    apologies = messages["sla.apology"]
    assert len(apologies) == 1
    for apology in apologies:
        assert apology.channel == "sms"
        assert apology.recipient_kind == "customer"
        assert apology.recipient_id == area.customer.id
        assert apology.language == "kk"
        assert datetime.fromisoformat(apology.context["new_date"]) == promised
    text = render("sla.apology", "kk", apologies[0].context, area.territory.time_zone).text
    assert number in text
    assert "Кешірім сұраймыз" in text
    notified = await _events(build, order_id, kinds.CUSTOMER_NOTIFIED)
    assert len(notified) == 1
    assert notified[0].data["target"] in {"response", "arrival"}

    # 200 min: response and arrival reach the head of unit (60 min after their breach);
    # resolution breaches and, 80 min past its due time, reaches the head too.
    at_200 = registered + timedelta(minutes=200)
    await _run(build, at_200)
    await _run(build, at_200)
    rows = await _escalations(build, order_id)
    assert _levels(rows) == {
        ("response", "warning"),
        ("response", "breach"),
        ("response", "head"),
        ("arrival", "breach"),
        ("arrival", "head"),
        ("resolution", "warning"),
        ("resolution", "breach"),
        ("resolution", "head"),
    }
    heads = [r for r in rows if r.level == "head"]
    assert all(r.recipient_ids == [supervisor.user.id] for r in heads)
    messages = _by_event(await _outbox(build, number))
    assert len(messages["escalation.head"]) == 3
    assert {m.recipient_id for m in messages["escalation.head"]} == {supervisor.user.id}
    assert len(messages["escalation.breach"]) == 3
    # The resolution clock breached too, but the date promised at 100 min is still ahead.
    assert len(messages["sla.apology"]) == 1
    assert len(await _events(build, order_id, kinds.CUSTOMER_NOTIFIED)) == 1

    # Much later, nothing new: every level of every clock has been raised for this due time.
    await _run(build, registered + timedelta(days=3))
    assert len(await _escalations(build, order_id)) == 8
    # Two warnings to two dispatchers, three breaches, three heads, one apology.
    assert len(await _outbox(build, number)) == 2 * 2 + 3 + 3 + 1


async def test_the_new_date_is_the_booked_visits_end(client: Any, build: Builder) -> None:
    await _policy(build)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    order = await _order(client, area, dispatcher)
    order_id = uuid.UUID(order["id"])
    registered = datetime.fromisoformat(order["created_at"])
    assert tech.technician is not None
    async with build.sessionmaker() as session:
        row = await session.get_one(WorkOrder, order_id)
    visit_start = registered + timedelta(hours=30)
    visit = await build.visit(row, tech.technician, start=visit_start, hours=2)
    assert visit.agreed_window.upper is not None

    await _run(build, registered + timedelta(minutes=125))
    breaches = [r for r in await _escalations(build, order_id) if r.level == "breach"]
    assert breaches
    promised = [r.customer_new_date for r in breaches if r.customer_new_date is not None]
    assert promised == [visit_start + timedelta(hours=2)]


async def test_no_recipient_in_the_territory_goes_to_the_roles_desk(
    client: Any, build: Builder
) -> None:
    await _policy(build)
    area = await build.area()
    admin = await build.person(Role.ADMIN)
    order = await _order(client, area, admin)
    registered = datetime.fromisoformat(order["created_at"])
    await _run(build, registered + timedelta(minutes=50))
    rows = await _escalations(build, uuid.UUID(order["id"]))
    assert [(r.level, r.recipient_ids) for r in rows] == [("warning", [])]
    [message] = await _outbox(build, order["number"])
    assert message.recipient_id is None
    assert message.recipient_address == f"dispatcher:{area.territory.code}"


async def test_two_concurrent_runs_raise_each_escalation_once(client: Any, build: Builder) -> None:
    await _policy(build)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    await build.person(Role.COORDINATOR, area.territory)
    await build.person(Role.SUPERVISOR, area.territory)
    orders = [await _order(client, area, dispatcher) for _ in range(3)]
    now = max(datetime.fromisoformat(o["created_at"]) for o in orders) + timedelta(minutes=200)

    async def run(session: Any) -> int:
        count = await escalate_clocks(session, None, settings=SETTINGS, now=now)
        await session.commit()
        return count

    async with build.sessionmaker() as first, build.sessionmaker() as second:
        await asyncio.wait_for(asyncio.gather(run(first), run(second)), timeout=60)
    # And once more, after both committed: still nothing new.
    await _run(build, now)

    for order in orders:
        rows = await _escalations(build, uuid.UUID(order["id"]))
        # First seen after every deadline: breach and head of each clock, no warnings.
        assert len(rows) == 6, _levels(rows)
        assert _levels(rows) == {(t, lvl) for t in TARGETS for lvl in ("breach", "head")}
        messages = _by_event(await _outbox(build, order["number"]))
        assert len(messages["sla.apology"]) == 1
        assert len(messages["escalation.breach"]) == 3
        assert len(messages["escalation.head"]) == 3
        assert "escalation.warning" not in messages
        notified = await _events(build, uuid.UUID(order["id"]), kinds.CUSTOMER_NOTIFIED)
        assert len(notified) == 1


async def test_an_order_that_fails_is_skipped_and_the_others_escalate(
    client: Any, build: Builder, caplog: pytest.LogCaptureFixture
) -> None:
    await _policy(build)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    await build.person(Role.COORDINATOR, area.territory)
    orders = [await _order(client, area, dispatcher) for _ in range(2)]
    # The job takes orders by id: the broken one goes first, as in the blocked production run.
    broken, healthy = sorted(orders, key=lambda o: uuid.UUID(o["id"]))
    async with build.sessionmaker() as session:
        row = await session.get_one(WorkOrder, uuid.UUID(broken["id"]))
        row.contact_phones = ["12-34"]  # legacy data: the apology SMS cannot be enqueued
        await session.commit()
    now = max(datetime.fromisoformat(o["created_at"]) for o in orders) + timedelta(minutes=65)

    assert await _run(build, now) == 1
    assert _levels(await _escalations(build, uuid.UUID(healthy["id"]))) == {("response", "breach")}
    assert await _escalations(build, uuid.UUID(broken["id"])) == []
    # Nothing of the broken order's half-done escalation is left behind.
    assert await _outbox(build, broken["number"]) == []
    failures = [r for r in caplog.records if r.name == "naryad.escalations"]
    assert [r.exc_info is not None for r in failures] == [True]
    assert broken["id"] in failures[0].getMessage()
    assert "12-34" not in caplog.text


async def test_the_constraint_refuses_a_duplicate(client: Any, build: Builder) -> None:
    area = await build.area()
    order = await build.order(area)
    due = datetime.now(UTC)
    row = {
        "work_order_id": order.id,
        "target": "resolution",
        "level": "breach",
        "due_at": due,
        "recipient_role": "coordinator",
    }
    async with build.sessionmaker() as session:
        session.add(Escalation(**row))
        await session.commit()
    async with build.sessionmaker() as session:
        session.add(Escalation(**row))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_the_job_is_scheduled_with_the_deployments_settings(settings: Any) -> None:
    assert "escalate_clocks" in [j.name for j in JOBS]
    names = [j.name for j in JOBS]
    assert names.index("refresh_sla_clocks") < names.index("escalate_clocks")
    bound = {j.name: j for j in jobs_for(settings)}
    assert bound["escalate_clocks"].every == timedelta(minutes=1)
    assert bound["escalate_clocks"].run is not escalate_clocks


# -- the API -------------------------------------------------------------------------------


async def _raised(build: Builder, area: Area, n: int = 1) -> list[uuid.UUID]:
    """Escalations written directly (the job is tested above)."""
    order = await build.order(area)
    ids: list[uuid.UUID] = []
    base = datetime.now(UTC) - timedelta(hours=1)
    async with build.sessionmaker() as session:
        for i in range(n):
            escalation = Escalation(
                work_order_id=order.id,
                target="resolution",
                level="breach",
                due_at=base + timedelta(minutes=i),
                recipient_role="coordinator",
                created_at=base + timedelta(seconds=i),
            )
            session.add(escalation)
            await session.flush()
            ids.append(escalation.id)
        await session.commit()
    return ids


async def _audit_count(build: Builder) -> int:
    async with build.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def _pending(build: Builder, escalation_id: uuid.UUID) -> bool:
    async with build.sessionmaker() as session:
        row = await session.get_one(Escalation, escalation_id)
        return row.acknowledged_at is None and row.ack_comment is None


async def test_list_pages_and_filters(client: Any, build: Builder) -> None:
    area = await build.area()
    other = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    ids = await _raised(build, area, 5)
    await _raised(build, other, 1)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "territory": str(area.territory.id)}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(BASE, params=params, headers=coordinator.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(i) for i in ids]  # pending: oldest first
    first = (await client.get(BASE, headers=coordinator.headers)).json()["items"][0]
    assert first["work_order_number"].startswith("WO-")
    assert first["territory_id"] == str(area.territory.id)
    assert first["level"] == "breach"
    assert first["acknowledged_at"] is None

    # Pending only for a coordinator of this territory; the other territory's row is hidden.
    everything = (await client.get(BASE, headers=coordinator.headers)).json()["items"]
    assert {i["territory_id"] for i in everything} == {str(area.territory.id)}

    ack = await client.post(
        f"{BASE}/{ids[0]}/acknowledge",
        json={"comment": "Позвонили клиенту, визит завтра"},
        headers=coordinator.headers,
    )
    assert ack.status_code == 200, ack.text
    pending = (await client.get(BASE, headers=coordinator.headers)).json()["items"]
    assert str(ids[0]) not in {i["id"] for i in pending}
    done = (
        await client.get(BASE, params={"status": "acknowledged"}, headers=coordinator.headers)
    ).json()["items"]
    assert [i["id"] for i in done] == [str(ids[0])]
    everything = (
        await client.get(BASE, params={"status": "all"}, headers=coordinator.headers)
    ).json()["items"]
    assert [i["id"] for i in everything] == [str(i) for i in reversed(ids)]  # newest first
    bad = await client.get(BASE, params={"status": "open"}, headers=coordinator.headers)
    assert bad.status_code == 400
    problem(bad)
    bad = await client.get(BASE, params={"cursor": "zzz"}, headers=coordinator.headers)
    assert bad.status_code == 422
    problem(bad)


async def test_acknowledge_with_a_comment_once(client: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    [escalation_id] = await _raised(build, area)
    url = f"{BASE}/{escalation_id}/acknowledge"
    before = await _audit_count(build)

    for body in ({}, {"comment": ""}, {"comment": "   \n\t "}, {"comment": "x" * 2001}):
        response = await client.post(url, json=body, headers=coordinator.headers)
        assert response.status_code == 422, (body, response.text)
        details = problem(response)
        assert details["errors"][0]["field"] == "comment"  # type: ignore[index]
    unknown = await client.post(
        url, json={"comment": "ok", "extra": 1}, headers=coordinator.headers
    )
    assert unknown.status_code == 400
    problem(unknown)
    assert await _pending(build, escalation_id)
    assert await _audit_count(build) == before

    response = await client.post(
        url,
        json={"comment": "  Извинились, новый срок завтра 18:00  "},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["comment"] == "Извинились, новый срок завтра 18:00"
    assert body["acknowledged_by"] == str(coordinator.user.id)
    assert body["acknowledged_at"] is not None
    assert await _audit_count(build) == before + 1
    async with build.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry)
            .where(AuditEntry.entity_id == str(escalation_id))
            .order_by(AuditEntry.id.desc())
        )
    assert entry is not None
    assert entry.action == "escalation.acknowledged"

    again = await client.post(url, json={"comment": "ещё раз"}, headers=coordinator.headers)
    assert again.status_code == 409
    problem(again)
    assert await _audit_count(build) == before + 1


async def test_authorization(client: Any, build: Builder) -> None:
    area = await build.area()
    away = await build.area()
    [escalation_id] = await _raised(build, area)
    url = f"{BASE}/{escalation_id}/acknowledge"
    people = {role: await build.person(role, area.territory) for role in STAFF}
    technician = await build.person(Role.TECHNICIAN, area.territory)
    outsider = await build.person(Role.COORDINATOR, away.territory)
    admin = await build.person(Role.ADMIN)

    for method, path, body in (("GET", BASE, None), ("POST", url, {"comment": "x"})):
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401
        problem(anonymous)
        forbidden = await client.request(method, path, json=body, headers=technician.headers)
        assert forbidden.status_code == 403
        problem(forbidden)
    for role in STAFF:
        listed = await client.get(BASE, headers=people[role].headers)
        assert listed.status_code == 200
        assert str(escalation_id) in {i["id"] for i in listed.json()["items"]}, role
    listed = await client.get(
        BASE, params={"territory": str(area.territory.id)}, headers=admin.headers
    )
    assert str(escalation_id) in {i["id"] for i in listed.json()["items"]}
    hidden = await client.get(BASE, headers=outsider.headers)
    assert str(escalation_id) not in {i["id"] for i in hidden.json()["items"]}
    asked = await client.get(
        BASE, params={"territory": str(area.territory.id)}, headers=outsider.headers
    )
    assert asked.json()["items"] == []

    other = await client.post(url, json={"comment": "не моё"}, headers=outsider.headers)
    assert other.status_code == 404
    problem(other)
    missing = await client.post(
        f"{BASE}/{uuid.uuid4()}/acknowledge", json={"comment": "x"}, headers=admin.headers
    )
    assert missing.status_code == 404
    assert await _pending(build, escalation_id)
    # A breach is the coordinators' to answer: another role of the territory is refused.
    for role in (Role.SUPERVISOR, Role.DISPATCHER):
        refused = await client.post(url, json={"comment": "Принято"}, headers=people[role].headers)
        assert refused.status_code == 403, role
        assert problem(refused)["code"] == "not_addressed_to_you"
    assert await _pending(build, escalation_id)
    ok = await client.post(
        url, json={"comment": "Принято"}, headers=people[Role.COORDINATOR].headers
    )
    assert ok.status_code == 200, ok.text


async def test_service_for_the_board(build: Builder) -> None:
    area = await build.area()
    ids = await _raised(build, area, 3)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    technician = await build.person(Role.TECHNICIAN, area.territory)
    async with build.sessionmaker() as session:
        service = EscalationService(session, coordinator.actor)
        pending = await service.pending(area.territory.id, limit=2)
        assert [p.id for p in pending] == ids[:2]
        done = await service.acknowledge(ids[0], "  сделано ")
        assert done.comment == "сделано"
        await session.commit()
    async with build.sessionmaker() as session:
        pending = await EscalationService(session, coordinator.actor).pending(area.territory.id)
        assert [p.id for p in pending] == ids[1:]
        with pytest.raises(Forbidden):
            await EscalationService(session, technician.actor).pending()


async def test_one_run_reads_each_territorys_recipients_and_clocks_once(
    client: Any, build: Builder
) -> None:
    await _policy(build)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    orders = [await _order(client, area, dispatcher) for _ in range(4)]
    now = max(datetime.fromisoformat(o["created_at"]) for o in orders) + timedelta(minutes=200)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    async with build.sessionmaker() as session:
        engine = session.bind.sync_engine  # type: ignore[union-attr]
        event.listen(engine, "before_cursor_execute", seen)
        try:
            await escalate_clocks(session, None, settings=SETTINGS, now=now)
            await session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # 4 orders x 3 clocks x (breach, head); other tests' orders may share the run.
    for order in orders:
        assert len(await _escalations(build, uuid.UUID(order["id"]))) == 6
    # Recipients once per role (coordinator, supervisor), not once per clock and level.
    mine = [s for s, p in statements if "FROM users" in s and area.territory.id in tuple(p)]
    assert len(mine) == 2
    # The batch's clocks in one read, not one per order.
    reads = [s for s, _ in statements if "FROM sla_clocks" in s and "sla_clocks.status IN" not in s]
    assert len(reads) == 1
    messages = _by_event(await _outbox(build, orders[0]["number"]))
    assert {m.recipient_address for m in messages["escalation.breach"]} == {
        f"user:{coordinator.user.id}"
    }
    assert {m.recipient_address for m in messages["escalation.head"]} == {
        f"user:{supervisor.user.id}"
    }
