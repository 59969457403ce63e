"""Complaint analysis (seed 001 §6.2): the most frequent reasons by territory, work type and
technician, the share answered on time, and repeat complaints, in the caller's territories.

A period is by registration time, [since, until). "Closed on time" counts appeals answered or
refused (with notice) by their due time among those closed; a complaint "by technician" is
linked to a visit; "by work type" to an order. Counts of complaints and claims on quality only.

"Due in the period" (the KPIs' answered-on-time share, and ``due_*`` here) is by deadline
instead: appeals whose answer deadline fell in the period and whose outcome is known (closed,
or still open past it); one due later today and still open is not counted yet. The KPI family
(``appeal_kpis``) and the analysis share these conditions, so the board and the analysis page
show the same figures for the same month.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals import schemas
from service.appeals.services import COMPLAINT_KINDS
from service.common.actor import Actor
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import Appeal, Customer, Technician, Territory, Visit, WorkOrder
from service.errors import FieldError, ValidationFailed

DEFAULT_PERIOD = timedelta(days=90)
MAX_PERIOD = timedelta(days=732)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
TOP_REASONS = 5
REPEAT_CUSTOMERS = 50

COMPLAINT = Appeal.kind.in_(COMPLAINT_KINDS)
ON_TIME = Appeal.closed_at <= Appeal.due_at


def scope_conditions(
    actor: Actor, territory_id: uuid.UUID | None, technician_id: uuid.UUID | None = None
) -> list[ColumnElement[bool]]:
    """The caller's territories, optionally one of them, and one technician's visits."""
    conditions = [territory_condition(actor, Appeal.territory_id)]
    if territory_id is not None:
        conditions.append(Appeal.territory_id == territory_id)
    if technician_id is not None:
        conditions.append(
            Appeal.visit_id.in_(select(Visit.id).where(Visit.technician_id == technician_id))
        )
    return conditions


def registered_in(since: datetime, until: datetime) -> ColumnElement[bool]:
    """Registered in [since, until)."""
    return and_(Appeal.registered_at >= since, Appeal.registered_at < until)


def due_in(since: datetime, until: datetime, now: datetime) -> ColumnElement[bool]:
    """The deadline fell in [since, until) and the outcome is known (closed, or past it now)."""
    return and_(
        Appeal.due_at >= since,
        Appeal.due_at < until,
        or_(Appeal.closed_at.is_not(None), Appeal.due_at <= now),
    )


def overdue_open(now: datetime) -> ColumnElement[bool]:
    """Still open and past the deadline now."""
    return and_(Appeal.closed_at.is_(None), Appeal.due_at <= now)


def _any_of(scope: list[ColumnElement[bool]], *arms: ColumnElement[bool]) -> ColumnElement[bool]:
    """Rows of the scope in any of the arms, the scope repeated inside each arm: PostgreSQL
    then ORs one index scan per arm (migration 0029) rather than reading the whole scope."""
    return or_(*(and_(*scope, arm) for arm in arms))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def appeal_kpis(
    session: AsyncSession,
    actor: Actor,
    since: datetime,
    until: datetime,
    *,
    territory_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> schemas.AppealKpi:
    """The KPI family of appeals: two indexed statements over the appeals table alone."""
    now = now or utcnow()
    scope = scope_conditions(actor, territory_id, technician_id)
    registered, due, late = (
        registered_in(since, until),
        due_in(since, until, now),
        overdue_open(now),
    )
    totals = (
        await session.execute(
            select(
                func.count().filter(registered),
                func.count().filter(registered, COMPLAINT),
                func.count().filter(registered, COMPLAINT, Appeal.repeat_of_id.is_not(None)),
                func.count().filter(due),
                func.count().filter(due, ON_TIME),
                func.count().filter(late),
            ).where(_any_of(scope, registered, due, late))
        )
    ).one()
    complaints = int(totals[1])
    reason = func.unnest(Appeal.reason_codes).label("code")
    rows = (
        await session.execute(
            select(reason, func.count().label("n"))
            .where(*scope, registered, COMPLAINT)
            .group_by("code")
            .order_by(func.count().desc(), "code")
            .limit(TOP_REASONS)
        )
    ).all()
    answered, due_count = int(totals[4]), int(totals[3])
    return schemas.AppealKpi(
        registered=int(totals[0]),
        complaints=complaints,
        repeat_complaints=int(totals[2]),
        due=due_count,
        answered_on_time=answered,
        on_time_share=_share(answered, due_count),
        overdue_open=int(totals[5]),
        top_reasons=[
            schemas.ReasonCount(code=str(code), complaints=int(n), share=_share(int(n), complaints))
            for code, n in rows
        ],
    )


def check_period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The analysis period asked for (default: the 90 days before ``until``, default now)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and (value.tzinfo is None or not EARLIEST <= value <= LATEST):
            raise ValidationFailed(
                "Times need an offset and a year from 2000 to 2100",
                errors=[FieldError(field=name, message="RFC 3339 with offset, 2000-2100")],
                code="bad_period",
            )
    until = until or utcnow()
    since = since or until - DEFAULT_PERIOD
    if since >= until or until - since > MAX_PERIOD:
        raise ValidationFailed(
            "The period must be positive and at most two years",
            errors=[FieldError(field="since", message="bad period")],
            code="bad_period",
        )
    return since, until


class AnalysisService:
    """Figures over the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def figures(
        self, since: datetime | None, until: datetime | None, territory_id: uuid.UUID | None
    ) -> schemas.Analysis:
        """Counts of the period."""
        since, until = check_period(since, until)
        now = utcnow()
        base = scope_conditions(self.actor, territory_id)
        scope = [*base, registered_in(since, until)]
        due, late = due_in(since, until, now), overdue_open(now)
        totals = (
            await self.session.execute(
                select(
                    func.count().filter(*scope),
                    func.count().filter(*scope, COMPLAINT),
                    func.count().filter(*scope, Appeal.closed_at.is_not(None)),
                    func.count().filter(*scope, ON_TIME),
                    func.count().filter(*scope, COMPLAINT, Appeal.repeat_of_id.is_not(None)),
                    func.count().filter(due),
                    func.count().filter(due, ON_TIME),
                    func.count().filter(late),
                    func.count().filter(
                        *scope, COMPLAINT, func.cardinality(Appeal.reason_codes) == 0
                    ),
                ).where(_any_of(base, registered_in(since, until), due, late))
            )
        ).one()
        reason = func.unnest(Appeal.reason_codes).label("key")
        by_reason = await self._counts(
            select(reason, func.count()).where(*scope, COMPLAINT).group_by("key")
        )
        by_territory = await self._counts(
            select(Territory.code, func.count(), Territory.name)
            .select_from(Appeal)
            .join(Territory, Territory.id == Appeal.territory_id)
            .where(*scope, COMPLAINT)
            .group_by(Territory.code, Territory.name)
        )
        by_work_type = await self._counts(
            select(WorkOrder.type, func.count())
            .select_from(Appeal)
            .join(WorkOrder, WorkOrder.id == Appeal.work_order_id)
            .where(*scope, COMPLAINT)
            .group_by(WorkOrder.type)
        )
        by_technician = await self._counts(
            select(Technician.id, func.count(), Technician.full_name)
            .select_from(Appeal)
            .join(Visit, Visit.id == Appeal.visit_id)
            .join(Technician, Technician.id == Visit.technician_id)
            .where(*scope, COMPLAINT)
            .group_by(Technician.id, Technician.full_name)
        )
        closed, on_time = int(totals[2]), int(totals[3])
        due_count, due_on_time = int(totals[5]), int(totals[6])
        return schemas.Analysis(
            since=since,
            until=until,
            appeals=int(totals[0]),
            complaints=int(totals[1]),
            closed=closed,
            closed_on_time=on_time,
            on_time_share=_share(on_time, closed),
            repeat_complaints=int(totals[4]),
            by_reason=by_reason,
            by_territory=by_territory,
            by_work_type=by_work_type,
            by_technician=by_technician,
            due=due_count,
            due_answered_on_time=due_on_time,
            due_on_time_share=_share(due_on_time, due_count),
            overdue_open=int(totals[7]),
            complaints_without_reason=int(totals[8]),
            repeat_customers=await self._repeat_customers(scope),
        )

    async def _counts(self, stmt: Any) -> list[schemas.CountRow]:
        rows = (await self.session.execute(stmt)).all()
        ordered = sorted(
            ((str(r[0]), int(r[1]), r[2] if len(r) > 2 else None) for r in rows),
            key=lambda r: (-r[1], r[0]),
        )
        return [schemas.CountRow(key=k, complaints=n, name=name) for k, n, name in ordered]

    async def _repeat_customers(
        self, scope: list[ColumnElement[bool]]
    ) -> list[schemas.RepeatCustomer]:
        """Customers with repeat complaints in the period: the repeats and what they repeat."""
        pairs = (
            await self.session.execute(
                select(Appeal.id, Appeal.repeat_of_id).where(
                    *scope, COMPLAINT, Appeal.repeat_of_id.is_not(None)
                )
            )
        ).all()
        ids = {i for pair in pairs for i in pair if i is not None}
        if not ids:
            return []
        rows = (
            await self.session.execute(
                select(
                    Appeal.id,
                    Appeal.number,
                    Appeal.registered_at,
                    Appeal.customer_id,
                    Customer.full_name,
                )
                .join(Customer, Customer.id == Appeal.customer_id)
                .where(Appeal.id.in_(ids), territory_condition(self.actor, Appeal.territory_id))
                .order_by(Appeal.registered_at, Appeal.number)
            )
        ).all()
        by_customer: dict[uuid.UUID, list[schemas.AppealRef]] = defaultdict(list)
        names: dict[uuid.UUID, str] = {}
        for row in rows:
            by_customer[row.customer_id].append(
                schemas.AppealRef(id=row.id, number=row.number, registered_at=row.registered_at)
            )
            names[row.customer_id] = row.full_name
        ordered = sorted(by_customer.items(), key=lambda item: (-len(item[1]), names[item[0]]))
        return [
            schemas.RepeatCustomer(
                customer_id=customer, name=names[customer], complaints=len(refs), appeals=refs
            )
            for customer, refs in ordered[:REPEAT_CUSTOMERS]
        ]
