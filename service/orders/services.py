"""Work-order rules: scope, numbering, optimistic locking, lifecycle, audit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import (
    ColumnElement,
    Select,
    exists,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from service.audit.services import record
from service.common.actor import Actor, Role
from service.common.pagination import decode_cursor, split_page
from service.common.patching import changed_fields, snapshot
from service.common.scope import territory_condition
from service.customers.services import CustomerService, SiteService
from service.db.base import utcnow
from service.db.models import Visit, WorkOrder
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.errors import (
    FieldError,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from service.orders import schemas, visit_lifecycle
from service.orders.lifecycle import Status, TransitionRefused, transition
from service.orders.visit_lifecycle import VisitStatus
from service.sla import kinds
from service.sla.events import record_order_event

AUDITED_FIELDS = (
    "number",
    "type",
    "priority",
    "status",
    "description",
    "requested_services",
    "required_skills",
    "equipment",
    "control_deadline",
    "cancel_reason",
    "hold_reason",
    "site_id",
    "customer_id",
    "territory_id",
)
_SEARCH_TOKEN = re.compile(r"\w+", re.UNICODE)
# Exactly the response's columns, in the order of ``schemas.WorkOrder`` (less ``overdue``);
# equipment comes as JSON text for msgspec to decode straight into its structs, text[] columns
# as the lists asyncpg makes of them.
_LIST_COLUMNS = """o.id, o.number, o.type, o.priority, o.status, o.description,
o.requested_services, o.required_skills, CAST(o.equipment AS text), o.contact_phones,
o.customer_id, o.site_id, o.territory_id, o.control_deadline, o.cancel_reason, o.hold_reason,
o.version, o.created_at, o.updated_at"""
# Orders a technician holds a live visit for ({} is the parameter's placeholder).
_HELD_BY = """EXISTS (SELECT 1 FROM visits v WHERE v.work_order_id = o.id
AND v.technician_id = {} AND v.status <> 'cancelled')"""
_EQUIPMENT = msgspec.json.Decoder(list[schemas.EquipmentItem])


class WorkOrderFilters(msgspec.Struct, frozen=True):
    """List filters; all optional and combined with AND."""

    status: tuple[str, ...] = ()
    type: str | None = None
    territory_id: uuid.UUID | None = None
    technician_id: uuid.UUID | None = None
    deadline_before: datetime | None = None
    q: str | None = None


def etag_for(order: WorkOrder) -> str:
    """Strong ETag from the optimistic-lock version."""
    return f'"v{order.version}"'


def parse_if_match(header: str | None, current_version: int) -> None:
    """If-Match is required; it must name the current version (or be ``*``)."""
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag you last read")
    tags = [t.strip() for t in header.split(",")]
    if "*" in tags or f'"v{current_version}"' in tags:
        return
    raise PreconditionFailed("The work order changed since you read it; reload and retry")


def search_query(q: str) -> str | None:
    """A prefix tsquery ANDing the words of ``q``; None when it has no words."""
    tokens = _SEARCH_TOKEN.findall(q.lower())[:8]
    return " & ".join(f"{t}:*" for t in tokens) or None


def order_schema(order: WorkOrder, now: datetime | None = None) -> schemas.WorkOrder:
    """Model to API schema."""
    now = now or utcnow()
    return schemas.WorkOrder(
        id=order.id,
        number=order.number,
        type=order.type,
        priority=order.priority,
        status=order.status,
        description=order.description,
        requested_services=list(order.requested_services),
        required_skills=list(order.required_skills),
        equipment=msgspec.convert(order.equipment, list[schemas.EquipmentItem]),
        contact_phones=list(order.contact_phones),
        customer_id=order.customer_id,
        site_id=order.site_id,
        territory_id=order.territory_id,
        control_deadline=order.control_deadline,
        overdue=bool(
            order.control_deadline
            and order.control_deadline < now
            and order.status in OPEN_ORDER_STATUSES
        ),
        cancel_reason=order.cancel_reason,
        hold_reason=order.hold_reason,
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def order_schema_from_row(row: Sequence[Any], now: datetime) -> schemas.WorkOrder:
    """A row of ``LIST_COLUMNS`` to the API schema, the same bytes as ``order_schema``."""
    (
        order_id,
        number,
        work_type,
        priority,
        status,
        description,
        requested_services,
        required_skills,
        equipment,
        contact_phones,
        customer_id,
        site_id,
        territory_id,
        deadline,
        cancel_reason,
        hold_reason,
        version,
        created_at,
        updated_at,
    ) = row
    return schemas.WorkOrder(
        id=order_id,
        number=number,
        type=work_type,
        priority=priority,
        status=status,
        description=description,
        requested_services=requested_services,
        required_skills=required_skills,
        equipment=_EQUIPMENT.decode(equipment),
        contact_phones=contact_phones,
        customer_id=customer_id,
        site_id=site_id,
        territory_id=territory_id,
        control_deadline=deadline,
        overdue=bool(deadline and deadline < now and status in OPEN_ORDER_STATUSES),
        cancel_reason=cancel_reason,
        hold_reason=hold_reason,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
    )


def scope_condition(actor: Actor) -> ColumnElement[bool]:
    """Technicians see orders they hold a live visit for; staff their territories."""
    if actor.role is Role.TECHNICIAN:
        return exists().where(
            Visit.work_order_id == WorkOrder.id,
            Visit.technician_id == actor.technician_id,
            Visit.status != "cancelled",
        )
    return territory_condition(actor, WorkOrder.territory_id)


def list_sql(
    actor: Actor, filters: WorkOrderFilters, cursor: str | None, limit: int
) -> tuple[str, list[Any]]:
    """The SELECT behind a page of the actor's orders and its positional parameters (also
    EXPLAINed by `make bench`): fixed text per combination of filters, every value a parameter."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if actor.role is Role.TECHNICIAN:
        conditions = [_HELD_BY.format(arg(actor.technician_id))]
    elif actor.is_admin:
        conditions = []
    elif actor.territory_ids:
        conditions = [f"o.territory_id = ANY({arg(list(actor.territory_ids))}::uuid[])"]
    else:
        conditions = ["false"]
    if filters.status:
        conditions.append(f"o.status = ANY({arg(list(filters.status))}::text[])")
    if filters.type:
        conditions.append(f"o.type = {arg(filters.type)}")
    if filters.territory_id:
        conditions.append(f"o.territory_id = {arg(filters.territory_id)}")
    if filters.technician_id:
        conditions.append(_HELD_BY.format(arg(filters.technician_id)))
    if filters.deadline_before:
        conditions.append(f"o.control_deadline < {arg(filters.deadline_before)}")
    if filters.q and (query := search_query(filters.q)):
        conditions.append(f"o.search @@ to_tsquery('simple', {arg(query)})")
    if cursor:
        after = decode_cursor(cursor)
        conditions.append(f"(o.created_at, o.id) < ({arg(after.created_at)}, {arg(after.id)})")
    where = " AND ".join(conditions) or "true"
    sql = (
        f"SELECT {_LIST_COLUMNS} FROM work_orders o WHERE {where}"  # noqa: S608 - fixed text
        f" ORDER BY o.created_at DESC, o.id DESC LIMIT {arg(limit + 1)}"
    )
    return sql, args


async def read_page(
    connection: asyncpg.Connection[Any],
    actor: Actor,
    filters: WorkOrderFilters,
    cursor: str | None,
    limit: int,
) -> schemas.WorkOrderPage:
    """A page of orders in the actor's scope matching the filters, newest first (keyset), read
    on an asyncpg connection: the request session's, or the raw reads' of the list route."""
    sql, args = list_sql(actor, filters, cursor, limit)
    rows = await connection.fetch(sql, *args)
    items, next_cursor = split_page(rows, limit, lambda row: (row[17], row[0]))
    now = utcnow()
    return schemas.WorkOrderPage(
        items=[order_schema_from_row(row, now) for row in items], next_cursor=next_cursor
    )


class WorkOrderService:
    """Creating, listing, changing and cancelling work orders."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _scoped(self) -> Select[WorkOrder]:
        return select(WorkOrder).where(scope_condition(self.actor))

    async def get(self, order_id: uuid.UUID, *, for_update: bool = False) -> WorkOrder:
        """One order in scope, or NotFound."""
        stmt = self._scoped().where(WorkOrder.id == order_id)
        if for_update:
            stmt = stmt.with_for_update()
        order = await self.session.scalar(stmt)
        if order is None:
            raise NotFound("Work order not found")
        return order

    async def create(self, data: schemas.WorkOrderCreate) -> WorkOrder:
        """Open a work order at a customer's site; it takes the site's territory."""
        customer = await CustomerService(self.session, self.actor).get(data.customer_id)
        site = await SiteService(self.session, self.actor).get(data.site_id)
        if site.customer_id != customer.id:
            raise ValidationFailed(
                "The site belongs to another customer",
                errors=[FieldError(field="site_id", message="not a site of this customer")],
            )
        now = utcnow()
        if data.control_deadline and data.control_deadline <= now:
            raise ValidationFailed(
                "The control deadline is in the past",
                errors=[FieldError(field="control_deadline", message="must be in the future")],
            )
        sequence = await self.session.scalar(text("SELECT nextval('work_order_number_seq')"))
        order = WorkOrder(
            number=f"WO-{now.year}-{sequence:06d}",
            type=data.type,
            priority=data.priority,
            status=Status.NEW.value,
            description=data.description,
            requested_services=list(data.requested_services),
            required_skills=sorted(set(data.required_skills or [data.type])),
            equipment=msgspec.to_builtins(data.equipment),
            contact_phones=list(data.contact_phones or customer.phones),
            customer_id=customer.id,
            site_id=site.id,
            territory_id=site.territory_id,
            control_deadline=data.control_deadline,
            created_by=self.actor.user_id,
        )
        self.session.add(order)
        await self.session.flush()
        await record_order_event(self.session, kinds.ORDER_CREATED, order, self.actor)
        await record(
            self.session,
            self.actor,
            "work_order.created",
            "work_order",
            order.id,
            after=snapshot(order, AUDITED_FIELDS),
        )
        return order

    async def update(
        self, order_id: uuid.UUID, patch: schemas.WorkOrderUpdate, if_match: str | None
    ) -> WorkOrder:
        """Change an open order; If-Match must carry the version last read."""
        order = await self.get(order_id)
        parse_if_match(if_match, order.version)
        changes = changed_fields(patch)
        before = snapshot(order, AUDITED_FIELDS)
        target = changes.pop("status", None)
        hold_reason = changes.pop("hold_reason", None)
        if Status(order.status) in (Status.CLOSED, Status.CANCELLED) and changes:
            raise InvalidTransition(f"A {order.status} work order cannot be changed")
        if target is not None:
            await self._apply_status(order, Status(target), hold_reason)
        elif hold_reason is not None:
            raise ValidationFailed(
                "hold_reason goes with status on_hold",
                errors=[FieldError(field="hold_reason", message="only with status on_hold")],
            )
        if "equipment" in changes:
            changes["equipment"] = msgspec.to_builtins(changes["equipment"])
        for name, value in changes.items():
            setattr(order, name, value)
        try:
            await self.session.flush()
        except StaleDataError as exc:
            raise PreconditionFailed(
                "The work order changed since you read it; reload and retry"
            ) from exc
        await record_order_event(self.session, kinds.ORDER_UPDATED, order, self.actor, before)
        await record(
            self.session,
            self.actor,
            "work_order.updated",
            "work_order",
            order.id,
            before=before,
            after=snapshot(order, AUDITED_FIELDS),
        )
        return order

    async def cancel(self, order_id: uuid.UUID, reason: str) -> WorkOrder:
        """Cancel an order that has not started; its live visits are cancelled with it."""
        order = await self.get(order_id, for_update=True)
        before = snapshot(order, AUDITED_FIELDS)
        self._move(order, Status.CANCELLED)
        order.cancel_reason = reason
        live = (
            await self.session.scalars(
                select(Visit).where(Visit.work_order_id == order.id, Visit.status == "planned")
            )
        ).all()
        for visit in live:
            visit.status = visit_lifecycle.transition(visit.status, VisitStatus.CANCELLED).value
        await self.session.flush()
        await record_order_event(self.session, kinds.ORDER_CANCELLED, order, self.actor)
        await record(
            self.session,
            self.actor,
            "work_order.cancelled",
            "work_order",
            order.id,
            before=before,
            after=snapshot(order, AUDITED_FIELDS) | {"cancelled_visits": [str(v.id) for v in live]},
        )
        return order

    async def _apply_status(
        self, order: WorkOrder, target: Status, hold_reason: str | None
    ) -> None:
        if target is Status.ON_HOLD:
            if not hold_reason:
                raise ValidationFailed(
                    "Putting an order on hold needs a reason",
                    errors=[FieldError(field="hold_reason", message="required with on_hold")],
                )
            self._move(order, target)
            order.hold_reason = hold_reason
            return
        if hold_reason is not None:
            raise ValidationFailed(
                "hold_reason goes with status on_hold",
                errors=[FieldError(field="hold_reason", message="only with status on_hold")],
            )
        if target is Status.NEW and Status(order.status) is Status.ON_HOLD:
            # Resuming an order that still has a planned visit puts it back on the schedule.
            has_visit = await self.session.scalar(
                select(exists().where(Visit.work_order_id == order.id, Visit.status == "planned"))
            )
            target = Status.SCHEDULED if has_visit else Status.NEW
            order.hold_reason = None
        self._move(order, target)

    @staticmethod
    def _move(order: WorkOrder, target: Status) -> None:
        try:
            order.status = transition(Status(order.status), target).value
        except TransitionRefused as exc:
            raise InvalidTransition(str(exc), code="invalid_transition") from exc
