"""The coordinator's workspace: overdue orders with owners, and what is done from a row.

Every overdue open order has an owner: the coordinator who took it or had it handed over
(``order_owners``), else its territory's coordinator on duty (the first active coordinator of
the territory by name, computed when read). Ownership changes, calls and holds are recorded as
events on the order's log (and in the audit trail), so the order's timeline tells the story.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.actor import Actor, Role
from service.db.base import utcnow
from service.db.models import OrderOwner, User, WorkOrder
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.errors import FieldError, Forbidden, NotFound, ValidationFailed
from service.escalations.services import EscalationService, escalate_by_hand, may_acknowledge
from service.orders import schemas as order_schemas
from service.orders.services import WorkOrderService
from service.sla import kinds
from service.sla.events import record_event
from service.staff.customer_forms import national_digits

Sort = Literal["overdue", "deadline", "priority"]
SORTS: tuple[Sort, ...] = ("overdue", "deadline", "priority")
CALL_OUTCOMES = ("reached", "no_answer", "wrong_number", "callback")
PAGE_SIZE = 50
NOTE_MAX = 500
COORDINATING_ROLES = frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN})
# Who an order can be handed to: the territory's coordinators and supervisors.
OWNER_ROLES = ("coordinator", "supervisor")

_ORDER_BY: dict[Sort, str] = {
    # Most overdue first is the earliest deadline first; deadline sort shows the freshest first.
    "overdue": "wo.control_deadline, wo.id",
    "deadline": "wo.control_deadline DESC, wo.id",
    "priority": (
        "CASE wo.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 "
        "ELSE 3 END, wo.control_deadline, wo.id"
    ),
}

# Each territory's coordinator on duty (its first active coordinator by name), one row per
# territory joined to the orders set-wise: resolved per order, it made "mine" the slowest view.
_DUTY = """
    SELECT DISTINCT ON (ut.territory_id) ut.territory_id, u.id, u.full_name
    FROM user_territories ut JOIN users u ON u.id = ut.user_id
    WHERE u.role = 'coordinator' AND u.is_active
      AND (CAST(:all_territories AS boolean) OR ut.territory_id IN :territories)
    ORDER BY ut.territory_id, u.full_name, u.id
"""
_OWNER = "coalesce(oo.user_id, duty.id)"
# A phone matches through migration 0025's trigram indexes, whose expression is exactly
# phones_text(...): each side is a set of ids read from its index, not a test per order.
_PHONE_MATCH = """
    wo.id IN (SELECT pw.id FROM work_orders pw WHERE phones_text(pw.contact_phones) LIKE :dlike)
    OR wo.customer_id IN (SELECT pc.id FROM customers pc WHERE phones_text(pc.phones) LIKE :dlike)
"""


def _listing(filters: WorkspaceFilters, *, mine: bool) -> str:
    """FROM and WHERE of the overdue orders the filters choose (mine or everyone's)."""
    q = filters.q.strip()
    joins = ""
    where = [
        "wo.status IN :open",
        "wo.control_deadline < :now",
        "(CAST(:all_territories AS boolean) OR wo.territory_id IN :territories)",
    ]
    if mine:
        where.append(f"{_OWNER} = :me")
    if q:
        joins = "JOIN customers c ON c.id = wo.customer_id JOIN sites s ON s.id = wo.site_id"
        match = ["wo.number ILIKE :like", "c.full_name ILIKE :like", "s.address ILIKE :like"]
        if _digits(q):
            match.append(_PHONE_MATCH)
        where.append("(" + " OR ".join(match) + ")")
    return f"""
        FROM work_orders wo
        {joins}
        LEFT JOIN order_owners oo ON oo.work_order_id = wo.id
        LEFT JOIN ({_DUTY}) duty ON duty.territory_id = wo.territory_id AND oo.work_order_id IS NULL
        WHERE {" AND ".join(where)}
    """


@dataclass(frozen=True, slots=True)
class WorkspaceFilters:
    """What the workspace shows: mine or everyone's, a search, a sort and a page."""

    mine: bool = True
    q: str = ""
    sort: Sort = "overdue"
    offset: int = 0


@dataclass(frozen=True, slots=True)
class OverdueRow:
    """One overdue order with what the coordinator needs to act on it."""

    id: uuid.UUID
    number: str
    priority: str
    status: str
    control_deadline: datetime
    hold_reason: str | None
    version: int
    territory_id: uuid.UUID
    territory_name: str
    time_zone: str
    customer_name: str
    phone: str | None
    address: str
    owner_id: uuid.UUID | None
    owner_name: str | None
    owner_taken: bool
    technician_name: str | None
    window_start: datetime | None
    window_end: datetime | None
    last_call_outcome: str | None
    last_call_at: datetime | None

    def overdue_minutes(self, now: datetime) -> int:
        """How long past the control deadline."""
        return int((now - self.control_deadline).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class OverduePage:
    """A page of the overdue list and the counts of its tabs."""

    rows: list[OverdueRow]
    total: int
    mine_total: int
    all_total: int
    next_offset: int | None
    as_of: datetime


def _digits(q: str) -> str:
    """The digits of a search that may be part of a phone (four or more), else ''."""
    digits = national_digits("".join(ch for ch in q if ch.isdigit()))
    return digits if len(digits) >= 4 else ""


def _params(actor: Actor, filters: WorkspaceFilters, now: datetime) -> dict[str, Any]:
    q = filters.q.strip()[:100]
    return {
        "open": tuple(OPEN_ORDER_STATUSES),
        "now": now,
        "all_territories": actor.is_admin,
        "territories": tuple(actor.territory_ids) or (uuid.UUID(int=0),),
        "me": actor.user_id,
        "like": f"%{_escape(q)}%",
        "dlike": f"%{_digits(q)}%",
    }


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the statement names (its parts vary with the filters)."""
    return {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _bind(sql: str) -> Any:
    lists = [name for name in ("open", "territories") if f":{name}" in sql]
    return text(sql).bindparams(*[bindparam(name, expanding=True) for name in lists])


class CoordinatorWorkspace:
    """Reads and acts on the overdue orders of the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _require(self) -> None:
        if self.actor.role not in COORDINATING_ROLES:
            raise Forbidden("Only coordinators work the overdue list", code="coordinators_only")

    def page_sql(self, filters: WorkspaceFilters, now: datetime) -> tuple[str, dict[str, Any]]:
        """The page's statement and its parameters (``_bind`` it; EXPLAIN reads it too).

        The page's order ids are chosen first (filtered, sorted, one more than a page), and
        only those rows are decorated with names, the live visit and the last call.
        """
        order = _ORDER_BY[filters.sort]
        sql = f"""
            WITH picked AS (
                SELECT wo.id, oo.user_id AS taken_by, duty.id AS duty_id,
                       duty.full_name AS duty_name
                {_listing(filters, mine=filters.mine)}
                ORDER BY {order}
                LIMIT :limit OFFSET :offset
            )
            SELECT wo.id, wo.number, wo.priority, wo.status, wo.control_deadline, wo.hold_reason,
                   wo.version, wo.territory_id, t.name AS territory_name, t.time_zone,
                   c.full_name AS customer_name,
                   coalesce(wo.contact_phones[1], c.phones[1]) AS phone, s.address,
                   coalesce(p.taken_by, p.duty_id) AS owner_id,
                   coalesce(ou.full_name, p.duty_name) AS owner_name,
                   p.taken_by IS NOT NULL AS owner_taken,
                   v.technician_name, v.window_start, v.window_end,
                   call.outcome AS last_call_outcome, call.recorded_at AS last_call_at
            FROM picked p
            JOIN work_orders wo ON wo.id = p.id
            JOIN territories t ON t.id = wo.territory_id
            JOIN customers c ON c.id = wo.customer_id
            JOIN sites s ON s.id = wo.site_id
            LEFT JOIN users ou ON ou.id = p.taken_by
            LEFT JOIN LATERAL (
                SELECT tech.full_name AS technician_name, lower(vi.agreed_window) AS window_start,
                       upper(vi.agreed_window) AS window_end
                FROM visits vi JOIN technicians tech ON tech.id = vi.technician_id
                WHERE vi.work_order_id = wo.id
                  AND vi.status IN ('planned', 'en_route', 'on_site')  -- LIVE_STATUSES
                ORDER BY lower(vi.agreed_window) LIMIT 1
            ) v ON true
            LEFT JOIN LATERAL (
                SELECT e.data->>'outcome' AS outcome, e.recorded_at FROM work_order_events e
                WHERE e.work_order_id = wo.id AND e.kind = 'customer.contacted'
                  AND e.data->>'reason' = 'coordinator_call'
                ORDER BY e.recorded_at DESC LIMIT 1
            ) call ON true
            ORDER BY {order}
        """  # noqa: S608 (constant fragments and a fixed ORDER BY)
        params = {**_params(self.actor, filters, now), "limit": PAGE_SIZE + 1}
        return sql, _used(sql, {**params, "offset": filters.offset})

    async def overdue(self, filters: WorkspaceFilters, now: datetime | None = None) -> OverduePage:
        """One page of overdue orders, with the true counts of mine and everyone's."""
        self._require()
        now = now or utcnow()
        sql, params = self.page_sql(filters, now)
        rows = (await self.session.execute(_bind(sql), params)).all()
        more = len(rows) > PAGE_SIZE
        # Both tabs' counts in one pass over the overdue orders.
        count_sql = (
            f"SELECT count(*) FILTER (WHERE {_OWNER} = :me) AS mine, count(*) AS everyone "
            + _listing(filters, mine=False)
        )
        counts = (
            await self.session.execute(
                _bind(count_sql), _used(count_sql, _params(self.actor, filters, now))
            )
        ).one()
        return OverduePage(
            rows=[OverdueRow(**r._mapping) for r in rows[:PAGE_SIZE]],
            total=int(counts.mine if filters.mine else counts.everyone),
            mine_total=int(counts.mine),
            all_total=int(counts.everyone),
            next_offset=filters.offset + PAGE_SIZE if more else None,
            as_of=now,
        )

    async def owners(self, order_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
        """Who the order can be handed to: its territory's active coordinators and supervisors."""
        order = await self._order(order_id)
        return (await self.owners_of({order.territory_id})).get(order.territory_id, [])

    async def owners_of(
        self, territory_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
        """The possible owners of each territory's orders, in one query."""
        if not territory_ids:
            return {}
        rows = await self.session.execute(
            _bind(
                "SELECT ut.territory_id, u.id, u.full_name FROM users u "
                "JOIN user_territories ut ON ut.user_id = u.id "
                "WHERE ut.territory_id IN :territories AND u.is_active "
                "AND u.role IN ('coordinator', 'supervisor') ORDER BY u.full_name, u.id"
            ),
            {"territories": tuple(territory_ids)},
        )
        found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
        for r in rows:
            found.setdefault(r.territory_id, []).append((r.id, r.full_name))
        return found

    async def take(self, order_id: uuid.UUID, note: str = "") -> None:
        """The caller becomes the order's owner."""
        await self._set_owner(order_id, self.actor.user_id, note, "taken")

    async def hand_over(self, order_id: uuid.UUID, to: uuid.UUID, note: str) -> None:
        """Give the order to another coordinator or supervisor of its territory, with a note."""
        cleaned = note.strip()[:NOTE_MAX]
        if not cleaned:
            raise ValidationFailed(
                "A hand-over needs a note",
                errors=[FieldError(field="note", message="required")],
            )
        if to not in {uid for uid, _ in await self.owners(order_id)}:
            raise ValidationFailed(
                "Hand over to a coordinator or supervisor of the order's territory",
                errors=[FieldError(field="to", message="not a coordinator of the territory")],
            )
        await self._set_owner(order_id, to, cleaned, "handed_over")

    async def _set_owner(self, order_id: uuid.UUID, to: uuid.UUID, note: str, how: str) -> None:
        self._require()
        order = await self._order(order_id)
        current = await self.session.get(OrderOwner, order.id, with_for_update=True)
        before = current.user_id if current else None
        if current is None:
            self.session.add(
                OrderOwner(work_order_id=order.id, user_id=to, since=utcnow(), note=note or None)
            )
        else:
            current.user_id = to
            current.since = utcnow()
            current.note = note or None
        await self.session.flush()
        data = {"how": how, "from": str(before) if before else None, "to": str(to), "note": note}
        await record_event(
            self.session, order.id, kinds.ORDER_OWNER_CHANGED, actor=self.actor, data=data
        )
        await record(
            self.session,
            self.actor,
            "work_order.owner_changed",
            "work_order",
            order.id,
            before={"owner": before},
            after={"owner": to, "how": how, "note": note},
        )

    async def record_call(
        self, order_id: uuid.UUID, outcome: str, promised: date | None, note: str
    ) -> None:
        """Record a call to the customer: its outcome and the new date promised, if any."""
        self._require()
        if outcome not in CALL_OUTCOMES:
            raise ValidationFailed(
                "Choose what came of the call",
                errors=[FieldError(field="outcome", message="unknown outcome")],
            )
        order = await self._order(order_id)
        if promised is not None and promised < utcnow().date():
            raise ValidationFailed(
                "The promised date cannot be in the past",
                errors=[FieldError(field="promised", message="in the past")],
            )
        data = {
            "reason": "coordinator_call",
            "channel": "phone",
            "outcome": outcome,
            "promised_date": promised.isoformat() if promised else None,
            "note": note.strip()[:NOTE_MAX] or None,
        }
        await record_event(
            self.session, order.id, kinds.CUSTOMER_CONTACTED, actor=self.actor, data=data
        )
        await record(
            self.session, self.actor, "customer.contacted", "work_order", order.id, after=data
        )

    async def hold(self, order_id: uuid.UUID, reason: str, version: str | None) -> None:
        """Put the order on hold with a reason (the orders service's rules and events)."""
        self._require()
        await self._order(order_id)
        cleaned = reason.strip()[:NOTE_MAX]
        if not cleaned:
            raise ValidationFailed(
                "Putting an order on hold needs a reason",
                errors=[FieldError(field="hold_reason", message="required")],
            )
        await WorkOrderService(self.session, self.actor).update(
            order_id,
            order_schemas.WorkOrderUpdate(status="on_hold", hold_reason=cleaned),
            f'"v{version}"' if version and version.isdigit() else None,
        )

    async def escalate(self, order_id: uuid.UUID, note: str) -> None:
        """Escalate the order to its territory's supervisors by hand, saying why."""
        self._require()
        order = await self._order(order_id)
        cleaned = note.strip()[:NOTE_MAX]
        if not cleaned:
            raise ValidationFailed(
                "Say why the order goes to the supervisors",
                errors=[FieldError(field="note", message="required")],
            )
        await escalate_by_hand(self.session, self.actor, order, cleaned)

    async def _order(self, order_id: uuid.UUID) -> WorkOrder:
        order = await self.session.get(WorkOrder, order_id)
        if order is None or not self.actor.covers_territory(order.territory_id):
            raise NotFound("No such work order")
        return order


async def user_name(session: AsyncSession, user_id: uuid.UUID) -> str:
    """A user's full name (the layout's "signed in as")."""
    user = await session.get(User, user_id)
    return user.full_name if user else ""


@dataclass(frozen=True, slots=True)
class EscalationGroup:
    """The unacknowledged escalations of one order."""

    work_order_id: uuid.UUID
    number: str
    territory_name: str
    time_zone: str
    ids: list[uuid.UUID]
    levels: list[str]
    roles: list[str]
    first_at: datetime
    # The ones the caller may acknowledge (their role's); the rest are another role's to answer.
    my_ids: list[uuid.UUID]

    @property
    def acknowledgeable(self) -> bool:
        """Something in the group is the caller's to acknowledge."""
        return bool(self.my_ids)

    @property
    def others(self) -> int:
        """How many in the group are addressed to another role."""
        return len(self.ids) - len(self.my_ids)


@dataclass(frozen=True, slots=True)
class EscalationInbox:
    """A page of escalation groups and the true counts behind it."""

    groups: list[EscalationGroup]
    escalations: int
    orders: int
    next_offset: int | None


ESCALATION_PAGE = 20
# The caller's pending escalations are read once (each needs its order's territory, a lookup
# per escalation); counts, the page's orders and their groups all come from that one set, and
# only the page's orders get their arrays built.
_PENDING = """
    FROM escalations e
    JOIN work_orders wo ON wo.id = e.work_order_id
    WHERE e.acknowledged_at IS NULL
      AND (CAST(:all_territories AS boolean) OR wo.territory_id IN :territories)
      AND (CAST(:role AS text) IS NULL OR e.recipient_role = CAST(:role AS text))
"""
_INBOX = f"""
    WITH pending AS MATERIALIZED (
        SELECT e.id, e.work_order_id, e.level, e.recipient_role, e.created_at {_PENDING}
    ),
    firsts AS (
        SELECT work_order_id, min(created_at) AS first_at FROM pending GROUP BY work_order_id
    ),
    page AS (
        SELECT work_order_id, first_at FROM firsts
        ORDER BY first_at, work_order_id LIMIT :limit OFFSET :offset
    )
    SELECT p.work_order_id, wo.number, t.name AS territory_name, t.time_zone,
           array_agg(e.id ORDER BY e.created_at, e.id) AS ids,
           array_agg(e.level ORDER BY e.created_at, e.id) AS levels,
           array_agg(e.recipient_role ORDER BY e.created_at, e.id) AS roles,
           p.first_at,
           (SELECT count(*) FROM pending) AS escalations,
           (SELECT count(*) FROM firsts) AS orders
    FROM page p
    JOIN pending e ON e.work_order_id = p.work_order_id
    JOIN work_orders wo ON wo.id = p.work_order_id
    JOIN territories t ON t.id = wo.territory_id
    GROUP BY p.work_order_id, p.first_at, wo.number, t.name, t.time_zone
    ORDER BY p.first_at, p.work_order_id
"""  # noqa: S608 (constant fragments)
_INBOX_COUNTS = (
    f"SELECT count(*) AS escalations, count(DISTINCT e.work_order_id) AS orders {_PENDING}"
)


async def escalation_inbox(
    session: AsyncSession, actor: Actor, *, to_me: bool, offset: int
) -> EscalationInbox:
    """Pending escalations grouped per order, oldest first; ``to_me``: addressed to my role."""
    params = {
        "all_territories": actor.is_admin,
        "territories": tuple(actor.territory_ids) or (uuid.UUID(int=0),),
        "role": actor.role.value if to_me and not actor.is_admin else None,
    }
    rows = (
        await session.execute(
            _bind(_INBOX), {**params, "limit": ESCALATION_PAGE + 1, "offset": offset}
        )
    ).all()
    if rows:
        escalations, orders = int(rows[0].escalations), int(rows[0].orders)
    elif offset:
        # A page past the end (a link kept after others acknowledged): the counts still hold.
        counts = (await session.execute(_bind(_INBOX_COUNTS), params)).one()
        escalations, orders = int(counts.escalations), int(counts.orders)
    else:
        escalations = orders = 0
    groups = [
        EscalationGroup(
            work_order_id=r.work_order_id,
            number=r.number,
            territory_name=r.territory_name,
            time_zone=r.time_zone,
            ids=list(r.ids),
            levels=list(r.levels),
            roles=list(r.roles),
            first_at=r.first_at,
            my_ids=[
                i for i, role in zip(r.ids, r.roles, strict=True) if may_acknowledge(actor, role)
            ],
        )
        for r in rows[:ESCALATION_PAGE]
    ]
    return EscalationInbox(
        groups=groups,
        escalations=escalations,
        orders=orders,
        next_offset=offset + ESCALATION_PAGE if len(rows) > ESCALATION_PAGE else None,
    )


async def acknowledge_many(
    session: AsyncSession, actor: Actor, ids: list[uuid.UUID], comment: str
) -> int:
    """Acknowledge several escalations with one comment; one refusal refuses them all."""
    if not ids:
        raise ValidationFailed(
            "Choose the escalations to acknowledge",
            errors=[FieldError(field="id", message="none chosen")],
        )
    service = EscalationService(session, actor)
    for escalation_id in ids:
        await service.acknowledge(escalation_id, comment)
    return len(ids)


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    """An open follow-up of a poor rating, with its owner and due time in the territory's zone."""

    id: uuid.UUID
    work_order_id: uuid.UUID
    number: str
    territory_name: str
    time_zone: str
    score: int | None
    comment: str | None
    reasons: list[str]
    owner_name: str | None
    owner_on_duty: bool
    due_at: datetime


@dataclass(frozen=True, slots=True)
class IncidentItem:
    """A safety incident not yet acknowledged, with who was told."""

    id: uuid.UUID
    work_order_id: uuid.UUID
    number: str
    territory_name: str
    time_zone: str
    kind: str
    reason: str | None
    technician_name: str | None
    told: str | None
    notified_role: str
    occurred_at: datetime


ATTENTION_PAGE = 30


async def open_follow_ups(session: AsyncSession, actor: Actor) -> tuple[list[FollowUpItem], int]:
    """Open follow-ups of the caller's territories, earliest due first, and how many there are.

    The owner is the task's, else the territory's coordinator on duty (as for overdue orders).
    """
    params = {
        "all_territories": actor.is_admin,
        "territories": tuple(actor.territory_ids) or (uuid.UUID(int=0),),
        "limit": ATTENTION_PAGE,
    }
    where = """
        WHERE f.status = 'open'
          AND (CAST(:all_territories AS boolean) OR f.territory_id IN :territories)
    """
    count = f"SELECT count(*) FROM follow_up_tasks f {where}"  # noqa: S608 (constant)
    total = await session.scalar(_bind(count), params)
    rows = await session.execute(
        _bind(
            f"""
            SELECT f.id, f.work_order_id, wo.number, t.name AS territory_name, t.time_zone,
                   f.score, r.comment, f.reasons, coalesce(ou.full_name, duty.full_name)
                   AS owner_name, ou.id IS NULL AS owner_on_duty, f.due_at
            FROM follow_up_tasks f
            JOIN work_orders wo ON wo.id = f.work_order_id
            JOIN territories t ON t.id = f.territory_id
            LEFT JOIN ratings r ON r.id = f.rating_id
            LEFT JOIN users ou ON ou.id = f.owner_id
            LEFT JOIN LATERAL (
                SELECT u.full_name FROM users u
                JOIN user_territories ut ON ut.user_id = u.id
                WHERE ut.territory_id = f.territory_id AND u.role = 'coordinator' AND u.is_active
                ORDER BY u.full_name, u.id LIMIT 1
            ) duty ON f.owner_id IS NULL
            {where}
            ORDER BY f.due_at, f.id
            LIMIT :limit
            """  # noqa: S608 (constant fragments)
        ),
        params,
    )
    items = [FollowUpItem(**{**r._mapping, "reasons": list(r.reasons or [])}) for r in rows]
    return items, int(total or 0)


async def pending_incidents(session: AsyncSession, actor: Actor) -> tuple[list[IncidentItem], int]:
    """Safety incidents of the caller's territories not yet acknowledged, oldest first."""
    params = {
        "all_territories": actor.is_admin,
        "territories": tuple(actor.territory_ids) or (uuid.UUID(int=0),),
        "limit": ATTENTION_PAGE,
    }
    where = """
        WHERE i.acknowledged_at IS NULL
          AND (CAST(:all_territories AS boolean) OR i.territory_id IN :territories)
    """
    count = f"SELECT count(*) FROM incidents i {where}"  # noqa: S608 (constant)
    total = await session.scalar(_bind(count), params)
    rows = await session.execute(
        _bind(
            f"""
            SELECT i.id, i.work_order_id, wo.number, t.name AS territory_name, t.time_zone,
                   i.kind, i.reason, tech.full_name AS technician_name, i.notified_role,
                   (SELECT string_agg(u.full_name, ', ' ORDER BY u.full_name) FROM users u
                    WHERE u.id = ANY(i.notified_user_ids)) AS told,
                   i.occurred_at
            FROM incidents i
            JOIN work_orders wo ON wo.id = i.work_order_id
            JOIN territories t ON t.id = i.territory_id
            LEFT JOIN technicians tech ON tech.id = i.technician_id
            {where}
            ORDER BY i.created_at, i.id
            LIMIT :limit
            """  # noqa: S608 (constant fragments)
        ),
        params,
    )
    return [IncidentItem(**r._mapping) for r in rows], int(total or 0)
