"""Complaint analysis (seed 001 §6.2): the most frequent reasons by territory, work type and
technician, the share answered on time, and repeat complaints, in the caller's territories.

A period is by registration time, [since, until). "Closed on time" counts appeals answered or
refused (with notice) by their due time among those closed; a complaint "by technician" is
linked to a visit; "by work type" to an order. Counts of complaints and claims on quality only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals import schemas
from service.appeals.services import COMPLAINT_KINDS
from service.common.actor import Actor
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import Appeal, Technician, Territory, Visit, WorkOrder
from service.errors import FieldError, ValidationFailed

DEFAULT_PERIOD = timedelta(days=90)
MAX_PERIOD = timedelta(days=732)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class AnalysisService:
    """Figures over the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def figures(
        self, since: datetime | None, until: datetime | None, territory_id: uuid.UUID | None
    ) -> schemas.Analysis:
        """Counts of the period."""
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
        scope = [
            territory_condition(self.actor, Appeal.territory_id),
            Appeal.registered_at >= since,
            Appeal.registered_at < until,
        ]
        if territory_id is not None:
            scope.append(Appeal.territory_id == territory_id)
        complaint = Appeal.kind.in_(COMPLAINT_KINDS)
        totals = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count().filter(complaint),
                    func.count().filter(Appeal.closed_at.is_not(None)),
                    func.count().filter(Appeal.closed_at <= Appeal.due_at),
                    func.count().filter(complaint, Appeal.repeat_of_id.is_not(None)),
                ).where(*scope)
            )
        ).one()
        reason = func.unnest(Appeal.reason_codes).label("key")
        by_reason = await self._counts(
            select(reason, func.count()).where(*scope, complaint).group_by("key")
        )
        by_territory = await self._counts(
            select(Territory.code, func.count())
            .select_from(Appeal)
            .join(Territory, Territory.id == Appeal.territory_id)
            .where(*scope, complaint)
            .group_by(Territory.code)
        )
        by_work_type = await self._counts(
            select(WorkOrder.type, func.count())
            .select_from(Appeal)
            .join(WorkOrder, WorkOrder.id == Appeal.work_order_id)
            .where(*scope, complaint)
            .group_by(WorkOrder.type)
        )
        by_technician = await self._counts(
            select(Technician.id, func.count())
            .select_from(Appeal)
            .join(Visit, Visit.id == Appeal.visit_id)
            .join(Technician, Technician.id == Visit.technician_id)
            .where(*scope, complaint)
            .group_by(Technician.id)
        )
        closed, on_time = int(totals[2]), int(totals[3])
        return schemas.Analysis(
            since=since,
            until=until,
            appeals=int(totals[0]),
            complaints=int(totals[1]),
            closed=closed,
            closed_on_time=on_time,
            on_time_share=round(on_time / closed, 4) if closed else None,
            repeat_complaints=int(totals[4]),
            by_reason=by_reason,
            by_territory=by_territory,
            by_work_type=by_work_type,
            by_technician=by_technician,
        )

    async def _counts(self, stmt: Any) -> list[schemas.CountRow]:
        rows = (await self.session.execute(stmt)).all()
        ordered = sorted(((str(k), int(n)) for k, n in rows), key=lambda r: (-r[1], r[0]))
        return [schemas.CountRow(key=k, complaints=n) for k, n in ordered]
