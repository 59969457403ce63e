"""SLA clocks in the database: recompute one order's clocks from its events, refresh due ones.

Lock order, everywhere: the work order row first, then its clock rows. Requests take the order
row when they record an event; the refresh job takes order rows with SKIP LOCKED, so two workers
(or a worker and a request) never wait on each other for the same order and never both write it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Table, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from service.db.base import utcnow
from service.db.models import (
    BusinessCalendar,
    Customer,
    Holiday,
    SlaClock,
    SlaPolicy,
    Territory,
    TerritorySlaProfile,
    Visit,
    WorkOrder,
    WorkOrderEvent,
)
from service.db.models.coordination import OPEN_ORDER_STATUSES
from service.sla import kinds
from service.sla.calendar import (
    CalendarTime,
    Measure,
    Period,
    WorkingCalendar,
    make_week,
)
from service.sla.clock import ClockState, Event, Targets, compute_clocks
from service.sla.policies import PolicyRule, choose

REFRESH_BATCH = 500


@dataclass(slots=True)
class Recomputed:
    """The stored clocks of one order and its control deadline."""

    work_order_id: uuid.UUID
    clocks: list[ClockState]
    control_deadline: datetime | None = None


# -- inputs --------------------------------------------------------------------------------


def calendar_from_rows(
    zone: str, hours: Sequence[dict[str, Any]], holidays: Sequence[Holiday]
) -> WorkingCalendar:
    """A pure calendar from stored hours and exceptions, in a territory's zone."""
    week = make_week((int(h["weekday"]), Period.of(str(h["start"]), str(h["end"]))) for h in hours)
    return WorkingCalendar(
        zone=ZoneInfo(zone),
        week=week,
        holidays=frozenset(h.day for h in holidays if h.kind == "holiday"),
        shortened={h.day: h.shorten_minutes for h in holidays if h.shorten_minutes},
        working_days=frozenset(h.day for h in holidays if h.kind == "working_day_transfer"),
    )


async def effective_calendar(
    session: AsyncSession, calendar_id: uuid.UUID | None, time_zone: str
) -> BusinessCalendar | None:
    """The calendar a territory's profile names, else the first one listing its zone."""
    calendar = None
    if calendar_id is not None:
        calendar = await session.get(BusinessCalendar, calendar_id)
    if calendar is None:
        calendar = await session.scalar(
            select(BusinessCalendar)
            .where(BusinessCalendar.zones.contains([time_zone]))
            .order_by(BusinessCalendar.code)
            .limit(1)
        )
    return calendar


async def territory_measure(
    session: AsyncSession, territory_id: uuid.UUID, since: date | None = None
) -> tuple[WorkingCalendar | None, str]:
    """The business calendar a territory uses, and a note saying where it came from."""
    row = (
        await session.execute(
            select(Territory.time_zone, TerritorySlaProfile.calendar_id)
            .outerjoin(TerritorySlaProfile, TerritorySlaProfile.territory_id == Territory.id)
            .where(Territory.id == territory_id)
        )
    ).one()
    calendar = await effective_calendar(session, row.calendar_id, row.time_zone)
    if calendar is None:
        return None, f"no business calendar for {row.time_zone}"
    stmt = select(Holiday).where(Holiday.calendar_id == calendar.id)
    if since is not None:
        stmt = stmt.where(Holiday.day >= since)
    holidays = (await session.scalars(stmt)).all()
    return (
        calendar_from_rows(row.time_zone, calendar.hours, holidays),
        f"calendar {calendar.code} in {row.time_zone}",
    )


async def policy_rules(session: AsyncSession) -> list[PolicyRule]:
    """Every policy, as the matcher sees it."""
    return [
        PolicyRule(
            id=p.id,
            name=p.name,
            work_type=p.work_type,
            priority=p.priority,
            segment=p.segment,
            area_kind=p.area_kind,
            response_minutes=p.response_minutes,
            arrival_minutes=p.arrival_minutes,
            resolution_minutes=p.resolution_minutes,
            measure=p.measure,
            warning_ratio=p.warning_ratio,
        )
        for p in (await session.scalars(select(SlaPolicy))).all()
    ]


def derive_missing(order: Any, logged: list[Event], visits: Sequence[Visit]) -> list[Event]:
    """Events the records prove but the log lacks (orders from before the log, or flows that do
    not log yet), marked ``derived`` so the explanation says where they came from."""
    derived: list[Event] = []
    have = {(e.kind, e.visit_id) for e in logged}
    kinds_logged = {e.kind for e in logged}
    if kinds.ORDER_CREATED not in kinds_logged:
        derived.append(Event(kinds.ORDER_CREATED, order.created_at, {}, derived=True))
    for visit in visits:
        window = visit.agreed_window
        if (kinds.VISIT_BOOKED, visit.id) not in have:
            derived.append(
                Event(
                    kinds.VISIT_BOOKED,
                    visit.agreed_at or visit.created_at,
                    {"window": [window.lower.isoformat() if window.lower else None]},
                    visit_id=visit.id,
                    derived=True,
                )
            )
        if visit.arrived_at is not None and (kinds.VISIT_ARRIVED, visit.id) not in have:
            derived.append(
                Event(kinds.VISIT_ARRIVED, visit.arrived_at, visit_id=visit.id, derived=True)
            )
        final = kinds.VISIT_OUTCOMES.get(visit.status)
        if final and visit.finished_at is not None and (final, visit.id) not in have:
            derived.append(
                Event(
                    final,
                    visit.finished_at,
                    {"reason": visit.outcome_reason},
                    visit_id=visit.id,
                    derived=True,
                )
            )
    everything = {e.kind for e in [*logged, *derived]}
    if order.status in ("completed", "closed") and kinds.VISIT_COMPLETED not in everything:
        derived.append(Event(kinds.VISIT_COMPLETED, order.updated_at, derived=True))
    if order.status == "cancelled" and kinds.ORDER_CANCELLED not in everything:
        derived.append(Event(kinds.ORDER_CANCELLED, order.updated_at, derived=True))
    return derived


async def _inputs(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool
) -> tuple[Any, list[Event]] | None:
    stmt = (
        select(
            WorkOrder.id,
            WorkOrder.type,
            WorkOrder.priority,
            WorkOrder.status,
            WorkOrder.territory_id,
            WorkOrder.created_at,
            WorkOrder.updated_at,
            WorkOrder.control_deadline,
            Customer.segment,
            TerritorySlaProfile.area_kind,
        )
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(TerritorySlaProfile, TerritorySlaProfile.territory_id == WorkOrder.territory_id)
        .where(WorkOrder.id == order_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=WorkOrder)
    order = (await session.execute(stmt)).one_or_none()
    if order is None:
        return None
    rows = (
        await session.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.work_order_id == order_id)
            .order_by(WorkOrderEvent.occurred_at, WorkOrderEvent.id)
        )
    ).all()
    logged = [
        Event(kind=r.kind, at=r.occurred_at, data=r.data, id=r.id, visit_id=r.visit_id)
        for r in rows
    ]
    visits = (await session.scalars(select(Visit).where(Visit.work_order_id == order_id))).all()
    return order, logged + derive_missing(order, logged, visits)


@dataclass(frozen=True, slots=True)
class Computation:
    """An order's clock inputs and the clocks computed from them."""

    order: Row[Any]
    events: list[Event]
    clocks: list[ClockState]


async def compute_for_order(
    session: AsyncSession,
    order_id: uuid.UUID,
    now: datetime,
    *,
    lock: bool = False,
    rules: Sequence[PolicyRule] | None = None,
) -> Computation | None:
    """The order's clocks as of ``now`` (None when the order does not exist).

    ``rules`` lets a batch read the policies once instead of once per order.
    """
    loaded = await _inputs(session, order_id, lock=lock)
    if loaded is None:
        return None
    order, events = loaded
    if rules is None:
        rules = await policy_rules(session)
    area = order.area_kind or "urban"
    priorities = {order.priority}
    for event in events:
        value = event.data.get("priority")
        if event.kind == kinds.ORDER_UPDATED and isinstance(value, list):
            priorities.update(str(p) for p in value if p)
        elif event.kind == kinds.ORDER_CREATED and value:
            priorities.add(str(value))
    targets_for: dict[str, Targets | None] = {}
    for priority in priorities:
        rule = choose(rules, order.type, priority, order.segment, area)
        targets_for[priority] = rule.targets() if rule else None
    current = targets_for.get(order.priority)
    measure: Measure = CalendarTime()
    note = None
    if current is not None and current.measure == "business":
        calendar, note = await territory_measure(session, order.territory_id)
        if calendar is not None:
            measure = calendar
        else:
            note = f"{note}; counted in calendar time"
    clocks = compute_clocks(events, order.priority, targets_for, measure, now, measure_note=note)
    return Computation(order, sorted(events, key=lambda e: (e.at, e.id or 0)), clocks)


# -- persistence ---------------------------------------------------------------------------


def _row(order_id: uuid.UUID, clock: ClockState, now: datetime) -> dict[str, Any]:
    return {
        "work_order_id": order_id,
        "target": clock.target,
        "status": clock.status,
        "policy_id": clock.policy_id,
        "measure": clock.measure,
        "target_minutes": clock.target_minutes,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warning_at": clock.warning_at,
        "stopped_at": clock.stopped_at,
        "breached_at": clock.breached_at,
        "settled_at": clock.settled_at,
        "paused_since": clock.paused_since,
        "resumes_at": clock.resumes_at,
        "paused_minutes": clock.paused_minutes,
        "remaining_minutes": clock.remaining_minutes,
        "reason": clock.reason,
        "next_change_at": clock.next_change_at,
        "computed_at": now,
    }


async def recompute(
    session: AsyncSession,
    order_id: uuid.UUID,
    now: datetime | None = None,
    *,
    rules: Sequence[PolicyRule] | None = None,
) -> Recomputed:
    """Recompute and store an order's clocks; keep its control deadline on the resolution due.

    Takes the order's row lock. The control deadline is written without bumping the order's
    version: it is derived, and a ticking clock must not make a dispatcher's If-Match stale.
    """
    now = now or utcnow()
    computed = await compute_for_order(session, order_id, now, lock=True, rules=rules)
    if computed is None:
        return Recomputed(order_id, [])
    order, clocks = computed.order, computed.clocks
    result = Recomputed(order_id, clocks, control_deadline=order.control_deadline)
    if not clocks:
        await session.execute(delete(SlaClock).where(SlaClock.work_order_id == order_id))
        return result
    rows = [_row(order_id, clock, now) for clock in clocks]
    stmt = insert(SlaClock).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SlaClock.work_order_id, SlaClock.target],
            set_={
                name: stmt.excluded[name]
                for name in rows[0]
                if name not in ("work_order_id", "target")
            },
        )
    )
    resolution = next(c for c in clocks if c.target == "resolution")
    deadline = resolution.due_at
    if deadline != order.control_deadline:
        table = cast(Table, WorkOrder.__table__)
        await session.execute(
            update(table).where(table.c.id == order_id).values(control_deadline=deadline)
        )
        instance = session.identity_map.get(session.identity_key(WorkOrder, order_id))
        if instance is not None:
            set_committed_value(instance, "control_deadline", deadline)
    result.control_deadline = deadline
    return result


async def refresh_due_clocks(
    session: AsyncSession, now: datetime | None = None, *, limit: int = REFRESH_BATCH
) -> int:
    """Recompute orders whose clocks change state by ``now`` (warning, breach, a pause starting
    or ending), and open orders that have no events yet. Returns how many orders it recomputed.

    Idempotent: a recomputed clock's next change moves past ``now``. Safe under concurrent
    callers: order rows are taken with SKIP LOCKED, so each order is handled by one of them.
    The caller commits (the worker's job scope).
    """
    now = now or utcnow()
    due = (
        select(SlaClock.work_order_id)
        .where(SlaClock.next_change_at <= now)
        .order_by(SlaClock.next_change_at)
        .limit(limit)
    )
    candidates = list(dict.fromkeys((await session.scalars(due)).all()))
    locked: list[uuid.UUID] = []
    if candidates:
        locked = list(
            (
                await session.scalars(
                    select(WorkOrder.id)
                    .where(WorkOrder.id.in_(candidates))
                    .order_by(WorkOrder.id)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
    # Orders from before the event log: give them their registration event once.
    unlogged = (
        await session.execute(
            select(WorkOrder.id, WorkOrder.created_at)
            .where(
                WorkOrder.status.in_(OPEN_ORDER_STATUSES),
                ~exists().where(WorkOrderEvent.work_order_id == WorkOrder.id),
            )
            .order_by(WorkOrder.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for order_id, created_at in unlogged:
        session.add(
            WorkOrderEvent(
                work_order_id=order_id,
                kind=kinds.ORDER_CREATED,
                occurred_at=created_at,
                data={"backfilled": True},
            )
        )
    if unlogged:
        await session.flush()
    todo = list(dict.fromkeys([*locked, *(order_id for order_id, _ in unlogged)]))
    if todo:
        rules = await policy_rules(session)
        for order_id in todo:
            await recompute(session, order_id, now, rules=rules)
    return len(todo)


async def invalidate_open_clocks(session: AsyncSession) -> None:
    """After a policy or calendar change: the refresh job recomputes every open clock."""
    await session.execute(
        update(SlaClock)
        .where(SlaClock.status.in_(("running", "warning", "paused")))
        .values(next_change_at=utcnow())
        .execution_options(synchronize_session=False)
    )
