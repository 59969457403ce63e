"""The overdue board: open orders past (or within two hours of) their control deadline.

The control deadline is the resolution clock's due time (kept in step by the clocks), so the
board reads ``work_orders`` through a partial index on open orders ordered by deadline: most
overdue first, keyset pages on (control_deadline, id). Buckets are computed in SQL from the
deadline and ``now``; the counts per bucket are one grouped query.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.board import schemas
from service.common.actor import Actor
from service.common.pagination import decode_cursor, split_page
from service.db.base import utcnow
from service.db.compiled import Compiled, StatementCache, param
from service.db.models import (
    SlaClock,
    Technician,
    Territory,
    User,
    Visit,
    WorkOrder,
    WorkOrderEvent,
)
from service.db.models.visits import LIVE_STATUSES
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.sla import kinds

DUE_SOON = timedelta(hours=2)
CSV_MAX_ROWS = 10_000
CSV_BATCH = 500
OWNER_ROLES = ("dispatcher", "coordinator")
# Lower bounds of each bucket, as (bucket, how far the deadline may lie before now).
_BUCKET_EDGES: tuple[tuple[schemas.Bucket, timedelta], ...] = (
    ("due_2h", timedelta(0)),
    ("overdue_0_4h", timedelta(hours=4)),
    ("overdue_4_24h", timedelta(hours=24)),
    ("overdue_1_3d", timedelta(hours=72)),
)


class BoardFilters(msgspec.Struct, frozen=True):
    """Board filters, combined with AND; several buckets are combined with OR."""

    territory_id: uuid.UUID | None = None
    type: str | None = None
    technician_id: uuid.UUID | None = None
    priority: str | None = None
    buckets: tuple[schemas.Bucket, ...] = ()


def bucket_expression(deadline: Any, bounds: Mapping[str, Any]) -> ColumnElement[str]:
    """The aging bucket of a deadline, given the bucket edges (``bounds(now)`` or params)."""
    return case(
        *[(deadline >= bounds[name], literal(name)) for name, _ in _BUCKET_EDGES],
        else_=literal("overdue_3d_plus"),
    )


def bucket_range(
    bucket: schemas.Bucket, deadline: Any, bounds: Mapping[str, Any]
) -> ColumnElement[bool]:
    """The deadline range of a bucket, as index-friendly comparisons."""
    if bucket == "due_2h":
        return and_(deadline >= bounds["due_2h"], deadline < bounds["soon"])
    names = [name for name, _ in _BUCKET_EDGES]
    if bucket == "overdue_3d_plus":
        return deadline < bounds["overdue_1_3d"]  # type: ignore[no-any-return]
    return and_(deadline < bounds[names[names.index(bucket) - 1]], deadline >= bounds[bucket])


def bounds(now: datetime) -> dict[str, datetime]:
    """The instants the buckets start at, and ``soon`` (the end of due_2h), as of ``now``."""
    return {
        "now": now,
        "soon": now + DUE_SOON,
        **{name: now - edge for name, edge in _BUCKET_EDGES},
    }


_MOMENT = DateTime(timezone=True)
# The same names as parameters: a statement is compiled once per shape (``_STATEMENTS``).
_BOUND_PARAMS = {name: param(name, _MOMENT) for name in bounds(datetime.now(UTC))}
_STATEMENTS = StatementCache()


class OverdueBoard:
    """Reads the board for one caller."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _conditions(self, filters: BoardFilters) -> list[ColumnElement[bool]]:
        """The board's conditions with a parameter for every value (see ``_values``)."""
        conditions: list[ColumnElement[bool]] = [
            # Inline constants, not parameters: the partial indexes' predicate must be provable
            # in any plan, generic ones included.
            WorkOrder.status.in_(
                bindparam(
                    "open_statuses", OPEN_ORDER_STATUSES, expanding=True, literal_execute=True
                )
            ),
            WorkOrder.control_deadline < _BOUND_PARAMS["soon"],
        ]
        if not self.actor.is_admin:
            conditions.append(
                WorkOrder.territory_id == any_(param("territories", ARRAY(Uuid())))
                if self.actor.territory_ids
                else false()
            )
        if filters.territory_id is not None:
            conditions.append(WorkOrder.territory_id == param("territory_id", Uuid()))
        if filters.type is not None:
            conditions.append(WorkOrder.type == param("type", String()))
        if filters.priority is not None:
            conditions.append(WorkOrder.priority == param("priority", String()))
        if filters.technician_id is not None:
            conditions.append(
                exists().where(
                    Visit.work_order_id == WorkOrder.id,
                    Visit.technician_id == param("technician_id", Uuid()),
                    Visit.status.in_(LIVE_STATUSES),
                )
            )
        return conditions

    def _shape(self, filters: BoardFilters) -> tuple[Any, ...]:
        """What decides a statement's text: the caller's kind of scope and the filters given."""
        return (
            self.actor.is_admin,
            bool(self.actor.territory_ids),
            filters.territory_id is not None,
            filters.type is not None,
            filters.priority is not None,
            filters.technician_id is not None,
        )

    def _values(
        self, filters: BoardFilters, now: datetime, cursor: str | None = None, limit: int = 0
    ) -> dict[str, Any]:
        """A request's parameter values, by the names the statements use."""
        values: dict[str, Any] = {
            **bounds(now),
            "territories": sorted(self.actor.territory_ids),
            "territory_id": filters.territory_id,
            "type": filters.type,
            "priority": filters.priority,
            "technician_id": filters.technician_id,
            "limit": limit + 1,
        }
        if cursor:
            after = decode_cursor(cursor)
            values |= {"after_deadline": after.created_at, "after_id": after.id}
        return values

    def page_sql(
        self, filters: BoardFilters, cursor: str | None, limit: int, now: datetime
    ) -> tuple[str, list[Any]]:
        """The SELECT behind a page and its arguments (``make bench`` EXPLAINs it)."""
        compiled = self._page_statement(filters, bool(cursor))
        return compiled.sql, compiled.arguments(self._values(filters, now, cursor, limit))

    def counts_sql(self, filters: BoardFilters, now: datetime) -> tuple[str, list[Any]]:
        """The SELECT behind the counts and its arguments."""
        compiled = self._counts_statement(filters)
        return compiled.sql, compiled.arguments(self._values(filters, now))

    def _page_statement(self, filters: BoardFilters, after: bool) -> Compiled:
        shape = ("page", *self._shape(filters), filters.buckets, after)
        return _STATEMENTS.get(shape, lambda: self.page_query(filters, after))

    def _counts_statement(self, filters: BoardFilters) -> Compiled:
        shape = ("counts", *self._shape(filters))
        return _STATEMENTS.get(shape, lambda: self.counts_query(filters))

    def page_query(self, filters: BoardFilters, after: bool) -> Select[Any]:
        """The statement behind a page, with parameters (compiled once per shape)."""
        conditions = self._conditions(filters)
        deadline = WorkOrder.control_deadline
        if filters.buckets:
            conditions.append(
                or_(*[bucket_range(b, deadline, _BOUND_PARAMS) for b in filters.buckets])
            )
        if after:
            conditions.append(
                tuple_(deadline, WorkOrder.id)
                > tuple_(param("after_deadline", _MOMENT), param("after_id", Uuid()))
            )
        page = (
            select(
                WorkOrder.id,
                WorkOrder.number,
                WorkOrder.type,
                WorkOrder.priority,
                WorkOrder.status,
                WorkOrder.territory_id,
                WorkOrder.control_deadline,
                WorkOrder.created_by,
                WorkOrder.hold_reason,
            )
            .where(*conditions)
            .order_by(WorkOrder.control_deadline, WorkOrder.id)
            .limit(param("limit", Integer()))
            .subquery("page")
        )
        last = (
            select(WorkOrderEvent.kind, WorkOrderEvent.occurred_at)
            .where(WorkOrderEvent.work_order_id == page.c.id)
            .order_by(WorkOrderEvent.occurred_at.desc(), WorkOrderEvent.id.desc())
            .limit(1)
            .lateral("last_event")
        )
        owner = (
            select(WorkOrderEvent.actor_user_id)
            .where(
                WorkOrderEvent.work_order_id == page.c.id,
                WorkOrderEvent.actor_role.in_(OWNER_ROLES),
            )
            .order_by(WorkOrderEvent.occurred_at.desc(), WorkOrderEvent.id.desc())
            .limit(1)
            .lateral("owner")
        )
        contacts = (
            select(func.count().label("n"))
            .where(
                WorkOrderEvent.work_order_id == page.c.id,
                WorkOrderEvent.kind.in_(kinds.CONTACT_KINDS),
            )
            .lateral("contacts")
        )
        owner_user = aliased(User, name="owner_user")
        now = _BOUND_PARAMS["now"]
        reason = case(
            (SlaClock.status == "paused", SlaClock.reason),
            (page.c.status == "on_hold", literal("on_hold")),
            (Visit.id.is_(None), literal("not_scheduled")),
            (
                and_(
                    func.upper(Visit.agreed_window) <= now,
                    Visit.arrived_at.is_(None),
                ),
                literal("visit_missed"),
            ),
            (
                func.lower(Visit.agreed_window) >= page.c.control_deadline,
                literal("visit_after_deadline"),
            ),
            (SlaClock.reason.is_not(None), SlaClock.reason),
            (page.c.status == "in_progress", literal("in_progress")),
            else_=literal("scheduled"),
        )
        return (
            select(
                page,
                bucket_expression(page.c.control_deadline, _BOUND_PARAMS).label("bucket"),
                Territory.time_zone,
                Territory.code.label("territory_code"),
                SlaClock.status.label("clock_status"),
                reason.label("reason"),
                last.c.kind.label("last_kind"),
                last.c.occurred_at.label("last_at"),
                owner_user.id.label("owner_id"),
                owner_user.full_name.label("owner_name"),
                Technician.id.label("technician_id"),
                Technician.full_name.label("technician_name"),
                func.lower(Visit.agreed_window).label("window_start"),
                func.upper(Visit.agreed_window).label("window_end"),
                contacts.c.n.label("contacts"),
            )
            .select_from(page)
            .join(Territory, Territory.id == page.c.territory_id)
            .outerjoin(
                SlaClock,
                and_(SlaClock.work_order_id == page.c.id, SlaClock.target == "resolution"),
            )
            .outerjoin(
                Visit, and_(Visit.work_order_id == page.c.id, Visit.status.in_(LIVE_STATUSES))
            )
            .outerjoin(Technician, Technician.id == Visit.technician_id)
            .outerjoin(last, true())
            .outerjoin(owner, true())
            .outerjoin(
                owner_user, owner_user.id == func.coalesce(owner.c.actor_user_id, page.c.created_by)
            )
            .join(contacts, true())
            .order_by(page.c.control_deadline, page.c.id)
        )

    def counts_query(self, filters: BoardFilters) -> Select[str, int]:
        """Orders per bucket (the bucket filter does not apply)."""
        bucket = bucket_expression(WorkOrder.control_deadline, _BOUND_PARAMS)
        return (
            select(bucket.label("bucket"), func.count().label("n"))
            .where(*self._conditions(filters))
            .group_by(bucket)
        )

    async def _rows(
        self, filters: BoardFilters, cursor: str | None, limit: int, now: datetime
    ) -> tuple[Sequence[Any], str | None]:
        compiled = self._page_statement(filters, bool(cursor))
        rows = await compiled.fetch(self.session, self._values(filters, now, cursor, limit))
        return split_page(rows, limit, lambda row: (row["control_deadline"], row["id"]))

    async def counts(self, filters: BoardFilters, now: datetime) -> schemas.BucketCounts:
        """Counts per bucket and in total."""
        rows = await self._counts_statement(filters).fetch(self.session, self._values(filters, now))
        found = {row["bucket"]: int(row["n"]) for row in rows}
        return schemas.BucketCounts(**found, total=sum(found.values()))

    async def page(
        self,
        filters: BoardFilters,
        cursor: str | None,
        limit: int,
        now: datetime | None = None,
        *,
        counts: schemas.BucketCounts | None = None,
    ) -> schemas.OverduePage:
        """One page, most overdue first, with the counts per bucket (unless already counted)."""
        now = now or utcnow()
        rows, next_cursor = await self._rows(filters, cursor, limit, now)
        return schemas.OverduePage(
            as_of=now,
            counts=counts if counts is not None else await self.counts(filters, now),
            items=[_item(row, now) for row in rows],
            next_cursor=next_cursor,
        )

    async def csv(self, filters: BoardFilters, now: datetime | None = None) -> tuple[bytes, bool]:
        """The whole filtered board as CSV (UTF-8 with BOM, for Excel); True when truncated."""
        now = now or utcnow()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        cursor: str | None = None
        written = 0
        truncated = False
        while True:
            rows, cursor = await self._rows(filters, cursor, CSV_BATCH, now)
            for row in rows:
                if written == CSV_MAX_ROWS:
                    truncated = True
                    break
                writer.writerow([_cell(v) for v in _csv_row(row, now)])
                written += 1
            if truncated or cursor is None:
                break
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), truncated


def _person(person_id: uuid.UUID | None, name: str | None) -> schemas.Person | None:
    if person_id is None or name is None:
        return None
    return schemas.Person(id=person_id, full_name=name)


def _overdue_minutes(deadline: datetime, now: datetime) -> int:
    return int((now - deadline).total_seconds() // 60)


def _item(row: Any, now: datetime) -> schemas.OverdueItem:
    return schemas.OverdueItem(
        work_order_id=row["id"],
        number=row["number"],
        type=row["type"],
        priority=row["priority"],
        status=row["status"],
        territory_id=row["territory_id"],
        control_deadline=row["control_deadline"],
        bucket=row["bucket"],
        overdue_minutes=_overdue_minutes(row["control_deadline"], now),
        clock_status=row["clock_status"],
        reason=row["reason"],
        reason_detail=row["hold_reason"] if row["status"] == "on_hold" else None,
        last_event=schemas.LastEvent(kind=row["last_kind"], at=row["last_at"])
        if row["last_kind"]
        else None,
        owner=_person(row["owner_id"], row["owner_name"]),
        technician=_person(row["technician_id"], row["technician_name"]),
        visit_window_start=row["window_start"],
        visit_window_end=row["window_end"],
        customer_contacts=int(row["contacts"]),
    )


CSV_COLUMNS = (
    "number",
    "territory",
    "type",
    "priority",
    "status",
    "bucket",
    "overdue_minutes",
    "control_deadline",
    "time_zone",
    "reason",
    "reason_detail",
    "last_event",
    "last_event_at",
    "owner",
    "technician",
    "visit_window_start",
    "visit_window_end",
    "customer_contacts",
)


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _csv_row(row: Any, now: datetime) -> list[Any]:
    """Times in the territory's local time (the zone is its own column)."""
    zone = ZoneInfo(row["time_zone"])
    return [
        row["number"],
        row["territory_code"],
        row["type"],
        row["priority"],
        row["status"],
        row["bucket"],
        _overdue_minutes(row["control_deadline"], now),
        _local(row["control_deadline"], zone),
        row["time_zone"],
        row["reason"],
        row["hold_reason"] if row["status"] == "on_hold" else "",
        row["last_kind"] or "",
        _local(row["last_at"], zone),
        row["owner_name"] or "",
        row["technician_name"] or "",
        _local(row["window_start"], zone),
        _local(row["window_end"], zone),
        int(row["contacts"]),
    ]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
