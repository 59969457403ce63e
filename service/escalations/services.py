"""Escalation of SLA clocks: who hears that a deadline is near or missed, and their answer.

Levels, each raised once per clock and due time (a due time that moves starts a new round):

- ``warning``: the clock passed its warning time while the due time is still ahead; the
  territory's dispatchers are told, so they can still act.
- ``breach``: the due time passed; the territory's coordinators are told, and the customer gets
  an apology with a new control date in their language (seed 000 §11), once per order and
  clock, and not while the date of an earlier apology is still ahead.
- ``head``: the order is still open ``head_delay`` (NARYAD_ESCALATION_HEAD_DELAY_MINUTES,
  default 4 h) after the breach; the head of the unit is told, i.e. the supervisors of the
  order's territory.

A clock first seen already breached gets no warning: there is nothing left to prevent, and the
coordinator hears of it at once. Clocks that are paused, stopped or cancelled, and orders that
are no longer open, are not escalated.

Each recipient is an active user of the level's role in the order's territory, sent a webhook
message (the staff channel, like the dispatch desk's lateness alert); when the territory has no
such user the role's desk address (``dispatcher:T01``) gets the message instead, so an
escalation is never addressed to nobody. Staff messages are in Russian, as the desk's are.

Every escalation stays pending until a staff member of the territory acknowledges it with a
comment saying what was done.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.acknowledgement import ACK_COMMENT_MAX, clean_comment, stamp_acknowledged
from service.common.actor import STAFF_ROLES, Actor
from service.common.pagination import TerritoryPageQuery, keyset_page, split_page
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import (
    Customer,
    Escalation,
    SlaClock,
    Territory,
    Visit,
    WorkOrder,
)
from service.db.models.visits import LIVE_STATUSES
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.errors import Conflict, Forbidden, NotFound
from service.escalations import schemas
from service.notifications import Recipient, enqueue
from service.notifications.staff import staff_ids, staff_recipients
from service.settings import EscalationSettings
from service.sla import kinds
from service.sla.events import record_event

Level = Literal["warning", "breach", "head"]
WARNING: Level = "warning"
BREACH: Level = "breach"
HEAD: Level = "head"
LEVELS: tuple[Level, ...] = (WARNING, BREACH, HEAD)
RECIPIENT_ROLE: dict[Level, str] = {
    WARNING: "dispatcher",
    BREACH: "coordinator",
    HEAD: "supervisor",
}
# Clock statuses that may still escalate; a paused clock waits for the customer or for parts.
ESCALATING_STATUSES = ("running", "warning", "breached")
APOLOGY_EVENT = "sla.apology"
ESCALATION_BATCH = 500
MAX_PAGE = 200

logger = logging.getLogger("naryad.escalations")


# -- decisions (pure) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockView:
    """What the decision needs of a stored clock."""

    status: str
    due_at: datetime | None
    warning_at: datetime | None
    stopped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """The configurable delays of escalation."""

    head_delay: timedelta = timedelta(hours=4)
    apology_extension: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: EscalationSettings) -> EscalationPolicy:
        """The policy of a deployment."""
        return cls(
            head_delay=timedelta(minutes=settings.head_delay_minutes),
            apology_extension=timedelta(minutes=settings.apology_extension_minutes),
        )


def due_levels(clock: ClockView, now: datetime, head_delay: timedelta) -> tuple[Level, ...]:
    """The levels a clock has reached by ``now`` (lower levels a breach makes moot left out)."""
    if clock.status not in ESCALATING_STATUSES or clock.stopped_at is not None:
        return ()
    if clock.due_at is None:
        return ()
    if now >= clock.due_at + head_delay:
        return (BREACH, HEAD)
    if now >= clock.due_at:
        return (BREACH,)
    if clock.warning_at is not None and now >= clock.warning_at:
        return (WARNING,)
    return ()


def new_control_date(
    now: datetime, next_visit_end: datetime | None, extension: timedelta, time_zone: str
) -> datetime:
    """The date promised to the customer with the apology.

    A breached clock's own due time is already past, so it cannot be the new date. If a visit
    is agreed and ends later than ``now``, its window's end is the promise (the customer agreed
    to it, and the work is done by then); otherwise ``now`` plus the configured extension
    (NARYAD_ESCALATION_APOLOGY_EXTENSION_MINUTES, default 24 h), rounded up to a whole hour of
    the territory's ``time_zone`` (the customer reads it on their clock, and some zones are
    offset from UTC by a half or quarter hour). The order's control deadline is not moved: it
    stays the measure the breach is counted by.
    """
    if next_visit_end is not None and next_visit_end > now:
        return next_visit_end
    promised = now + extension
    local = promised.astimezone(ZoneInfo(time_zone))
    hour = local.replace(minute=0, second=0, microsecond=0)
    if hour == local:
        return promised
    # Added in UTC: elapsed time, not wall-clock time, across a DST change.
    return (hour.astimezone(UTC) + timedelta(hours=1)).astimezone(promised.tzinfo)


# -- the job -------------------------------------------------------------------------------


def _needed_level(now: datetime, head_delay: timedelta) -> Any:
    """SQL: the highest level a clock has reached (lower ones are raised with or before it)."""
    return case(
        (SlaClock.due_at <= now - head_delay, literal(HEAD)),
        (SlaClock.due_at <= now, literal(BREACH)),
        else_=literal(WARNING),
    )


def candidates_query(now: datetime, policy: EscalationPolicy, limit: int) -> Select[Any]:
    """Orders with a clock whose highest reached level has not been raised yet."""
    raised = exists().where(
        Escalation.work_order_id == SlaClock.work_order_id,
        Escalation.target == SlaClock.target,
        Escalation.due_at == SlaClock.due_at,
        Escalation.level == _needed_level(now, policy.head_delay),
    )
    return (
        select(SlaClock.work_order_id)
        .join(WorkOrder, WorkOrder.id == SlaClock.work_order_id)
        .where(
            SlaClock.stopped_at.is_(None),
            SlaClock.status.in_(ESCALATING_STATUSES),
            SlaClock.due_at.is_not(None),
            or_(SlaClock.warning_at <= now, SlaClock.due_at <= now),
            WorkOrder.status.in_(OPEN_ORDER_STATUSES),
            ~raised,
        )
        .order_by(SlaClock.due_at)
        .limit(limit)
    )


async def escalate_clocks(
    session: AsyncSession,
    _store: object = None,
    *,
    settings: EscalationSettings | None = None,
    now: datetime | None = None,
    limit: int = ESCALATION_BATCH,
) -> int:
    """Raise the escalations clocks have reached by ``now``; returns how many were new.

    Safe under concurrent callers (two workers, or the job racing a request): each order's row
    is taken with SKIP LOCKED before its escalations are written, and the unique constraint on
    (order, target, level, due time) with ON CONFLICT DO NOTHING makes a second insert a no-op,
    so every escalation, its messages and the customer's apology happen once. Each order runs
    in its own savepoint: one that fails (bad data, say) is logged and skipped, and neither
    undoes nor blocks the others. The caller commits (the worker's job scope).
    """
    now = now or utcnow()
    policy = EscalationPolicy.from_settings(settings or EscalationSettings())
    candidates = list(
        dict.fromkeys((await session.scalars(candidates_query(now, policy, limit))).all())
    )
    if not candidates:
        return 0
    locked = (
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.id.in_(candidates), WorkOrder.status.in_(OPEN_ORDER_STATUSES))
            .order_by(WorkOrder.id)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not locked:
        return 0
    run = _Run(session, now, policy)
    # Read after taking the orders' locks, so a request that updated (or locked) one of these
    # work_orders rows has committed its clock changes too. A request that changed only the
    # clocks takes no such lock: what it has not committed yet is not seen by this run.
    # Plain rows, read once for the batch: a savepoint rolled back below expires ORM objects.
    clocks: dict[uuid.UUID, list[Any]] = {order.id: [] for order in locked}
    for clock in await session.execute(
        select(
            SlaClock.work_order_id,
            SlaClock.target,
            SlaClock.status,
            SlaClock.due_at,
            SlaClock.warning_at,
            SlaClock.stopped_at,
        )
        .where(SlaClock.work_order_id.in_(clocks))
        .order_by(SlaClock.work_order_id, SlaClock.target)
    ):
        clocks[clock.work_order_id].append(clock)
    territories = {
        t.id: t
        for t in await session.scalars(
            select(Territory).where(Territory.id.in_({o.territory_id for o in locked}))
        )
    }
    raised = 0
    for order in locked:
        order_id = order.id  # read now: a rolled-back savepoint may expire the row
        try:
            async with session.begin_nested():
                raised += await run.order(order, territories[order.territory_id], clocks[order_id])
        except Exception:
            # Only ids in the log: the failure may be about a customer's data.
            logger.exception("escalating work order %s failed; skipped", order_id)
    return raised


class _Run:
    """One run of the job: recipients are looked up once per territory and role."""

    def __init__(self, session: AsyncSession, now: datetime, policy: EscalationPolicy) -> None:
        self.session = session
        self.now = now
        self.policy = policy
        self._recipients: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}

    async def order(self, order: WorkOrder, territory: Territory, clocks: list[Any]) -> int:
        """Raise what the order's clocks have reached; returns how many were new."""
        raised = 0
        for clock in clocks:
            view = ClockView(clock.status, clock.due_at, clock.warning_at, clock.stopped_at)
            for level in due_levels(view, self.now, self.policy.head_delay):
                if await self._raise(order, territory, clock.target, level, clock.due_at):
                    raised += 1
        return raised

    async def recipients(self, territory_id: uuid.UUID, role: str) -> list[uuid.UUID]:
        """The territory's active users of ``role`` (read once per run)."""
        key = (territory_id, role)
        if key not in self._recipients:
            self._recipients[key] = await staff_ids(self.session, territory_id, role)
        return self._recipients[key]

    async def _raise(
        self, order: WorkOrder, territory: Territory, target: str, level: Level, due_at: datetime
    ) -> bool:
        """Write one escalation and send its messages; False when it already existed."""
        session, now = self.session, self.now
        role = RECIPIENT_ROLE[level]
        recipients = await self.recipients(territory.id, role)
        escalation_id = await session.scalar(
            insert(Escalation)
            .values(
                id=uuid.uuid4(),
                work_order_id=order.id,
                target=target,
                level=level,
                due_at=due_at,
                recipient_role=role,
                recipient_ids=recipients,
                created_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_escalations_occurrence")
            .returning(Escalation.id)
        )
        if escalation_id is None:
            return False
        context = {"work_order_number": order.number, "target": target, "due_at": due_at}
        for recipient in staff_recipients(role, territory.code, recipients):
            await enqueue(
                session,
                event=f"escalation.{level}",
                event_key=str(escalation_id),
                channel="webhook",
                recipient=recipient,
                language="ru",
                time_zone=territory.time_zone,
                context=context,
                now=now,
            )
        if level == BREACH:
            promised = await _apologise(session, order, territory, target, now, self.policy)
            if promised is not None:
                await session.execute(
                    update(Escalation)
                    .where(Escalation.id == escalation_id)
                    .values(customer_new_date=promised)
                )
        return True


async def _apologise(
    session: AsyncSession,
    order: WorkOrder,
    territory: Territory,
    target: str,
    now: datetime,
    policy: EscalationPolicy,
) -> datetime | None:
    """Apologise to the customer with a new control date, once per order and clock, and not
    while an earlier apology's date is still ahead (the customer cares about the order, not
    which of its clocks ran out)."""
    promised_ahead = await session.scalar(
        select(
            exists().where(Escalation.work_order_id == order.id, Escalation.customer_new_date > now)
        )
    )
    if promised_ahead:
        return None
    breaches = await session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(
            Escalation.work_order_id == order.id,
            Escalation.target == target,
            Escalation.level == BREACH,
        )
    )
    if (breaches or 0) > 1:
        return None  # an earlier due time of this clock was already apologised for
    customer = await session.get_one(Customer, order.customer_id)
    phone = next(iter(order.contact_phones or customer.phones or []), None)
    if phone is None:
        return None
    visit_end = await session.scalar(
        select(func.min(func.upper(Visit.agreed_window))).where(
            Visit.work_order_id == order.id,
            Visit.status.in_(LIVE_STATUSES),
            func.upper(Visit.agreed_window) > now,
        )
    )
    promised = new_control_date(now, visit_end, policy.apology_extension, territory.time_zone)
    sent = await enqueue(
        session,
        event=APOLOGY_EVENT,
        event_key=f"{order.id}:{target}",
        channel="sms",
        recipient=Recipient(kind="customer", id=customer.id, address=phone),
        language=customer.preferred_language,  # type: ignore[arg-type]
        time_zone=territory.time_zone,
        context={"work_order_number": order.number, "new_date": promised},
        now=now,
    )
    if not sent:
        return None
    # Counted as a customer contact on the board; queued now, delivered by the worker.
    await record_event(
        session,
        order.id,
        kinds.CUSTOMER_NOTIFIED,
        data={"message": APOLOGY_EVENT, "target": target, "new_control_date": promised},
    )
    return promised


async def escalate_by_hand(
    session: AsyncSession, actor: Actor, order: WorkOrder, note: str
) -> uuid.UUID:
    """A coordinator escalates an order to the head of the unit (the territory's supervisors),
    as the job would after ``head_delay``; once per control deadline, like the job's (409)."""
    territory = await session.get_one(Territory, order.territory_id)
    now = utcnow()
    # The control deadline is the occurrence (an order without one escalates as of now).
    due_at = order.control_deadline or now
    run = _Run(session, now, EscalationPolicy())
    if not await run._raise(order, territory, "resolution", HEAD, due_at):
        raise Conflict(
            "The order is already escalated to the supervisors", code="already_escalated"
        )
    escalation_id = await session.scalar(
        select(Escalation.id).where(
            Escalation.work_order_id == order.id,
            Escalation.target == "resolution",
            Escalation.level == HEAD,
            Escalation.due_at == due_at,
        )
    )
    assert escalation_id is not None
    data = {"escalation_id": str(escalation_id), "level": HEAD, "note": note}
    await record_event(session, order.id, kinds.ORDER_ESCALATED, actor=actor, data=data)
    await record(
        session, actor, "escalation.raised_by_hand", "escalation", escalation_id, after=data
    )
    return escalation_id


# -- reading and acknowledging -------------------------------------------------------------


def escalation_schema(row: Any) -> schemas.Escalation:
    """A row of (Escalation, number, territory_id) to the API schema."""
    escalation: Escalation = row[0]
    return schemas.Escalation(
        id=escalation.id,
        work_order_id=escalation.work_order_id,
        work_order_number=row.number,
        territory_id=row.territory_id,
        target=escalation.target,  # type: ignore[arg-type]
        level=escalation.level,  # type: ignore[arg-type]
        due_at=escalation.due_at,
        recipient_role=escalation.recipient_role,
        recipient_ids=list(escalation.recipient_ids),
        customer_new_date=escalation.customer_new_date,
        created_at=escalation.created_at,
        acknowledged_at=escalation.acknowledged_at,
        acknowledged_by=escalation.acknowledged_by,
        comment=escalation.ack_comment,
    )


def may_acknowledge(actor: Actor, recipient_role: str) -> bool:
    """Only the role an escalation is addressed to answers it (admins may answer any)."""
    return actor.is_admin or actor.role.value == recipient_role


class EscalationService:
    """Escalations of the caller's territories (all for admins), and their acknowledgement."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _require_staff(self) -> None:
        if self.actor.role not in STAFF_ROLES:
            raise Forbidden("Only staff handle escalations", code="staff_only")

    def _select(self) -> Select[Escalation, str, uuid.UUID]:
        return (
            select(Escalation, WorkOrder.number, WorkOrder.territory_id)
            .join(WorkOrder, WorkOrder.id == Escalation.work_order_id)
            .where(territory_condition(self.actor, WorkOrder.territory_id))
        )

    async def page(
        self, status: schemas.EscalationStatus, query: TerritoryPageQuery
    ) -> schemas.EscalationPage:
        """Pending escalations oldest first (longest waiting on top); others newest first."""
        self._require_staff()
        limit = max(1, min(query.limit, MAX_PAGE))
        stmt = self._select()
        if query.territory_id is not None:
            stmt = stmt.where(WorkOrder.territory_id == query.territory_id)
        if status == "pending":
            stmt = stmt.where(Escalation.acknowledged_at.is_(None))
        elif status == "acknowledged":
            stmt = stmt.where(Escalation.acknowledged_at.is_not(None))
        stmt = keyset_page(stmt, Escalation, query.cursor, limit, oldest_first=status == "pending")
        rows = (await self.session.execute(stmt)).all()
        page, next_cursor = split_page(rows, limit, lambda r: (r[0].created_at, r[0].id))
        return schemas.EscalationPage(
            items=[escalation_schema(r) for r in page], next_cursor=next_cursor
        )

    async def pending(
        self, territory_id: uuid.UUID | None = None, limit: int = 50
    ) -> list[schemas.Escalation]:
        """Unacknowledged escalations the caller may see, oldest first."""
        query = TerritoryPageQuery(territory_id=territory_id, limit=limit)
        return (await self.page("pending", query)).items

    async def acknowledge(self, escalation_id: uuid.UUID, comment: str) -> schemas.Escalation:
        """Record what was done; a comment is required and an escalation is acknowledged once."""
        self._require_staff()
        text = clean_comment(comment, ACK_COMMENT_MAX)
        row = (
            await self.session.execute(
                self._select().where(Escalation.id == escalation_id).with_for_update(of=Escalation)
            )
        ).one_or_none()
        if row is None:
            raise NotFound("No such escalation")
        escalation: Escalation = row[0]
        if not may_acknowledge(self.actor, escalation.recipient_role):
            raise Forbidden(
                f"This escalation is addressed to the {escalation.recipient_role}s",
                code="not_addressed_to_you",
            )
        stamp_acknowledged(escalation, self.actor, text, "escalation")
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "escalation.acknowledged",
            "escalation",
            escalation.id,
            before={"acknowledged_at": None},
            after={
                "work_order_id": escalation.work_order_id,
                "target": escalation.target,
                "level": escalation.level,
                "acknowledged_at": escalation.acknowledged_at,
                "comment": text,
            },
        )
        return escalation_schema(row)
