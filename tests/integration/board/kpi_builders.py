"""Rows the KPI tests build straight in the database: visits, checklists, reschedules, clocks,
ratings (the hand-computed fixture in test_kpis.py and the random days in test_kpi_days.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ChecklistAnswer,
    ChecklistTemplate,
    Rating,
    SlaClock,
    Visit,
    VisitChecklist,
    WorkOrder,
    WorkOrderEvent,
)
from tests.integration.builders import Person


def visit_row(
    order: WorkOrder,
    who: Person,
    window_start: datetime,
    status: str,
    *,
    arrived_at: datetime | None = None,
    finished_at: datetime | None = None,
    created_at: datetime | None = None,
) -> Visit:
    """A visit with a two-hour agreed window (created 5 minutes after its order by default)."""
    assert who.technician is not None
    return Visit(
        id=uuid.uuid4(),
        work_order_id=order.id,
        technician_id=who.technician.id,
        agreed_window=Range(window_start, window_start + timedelta(hours=2), bounds="[)"),
        status=status,
        arrived_at=arrived_at,
        finished_at=finished_at,
        created_at=created_at or order.created_at + timedelta(minutes=5),
    )


async def repair_template(session: AsyncSession) -> ChecklistTemplate:
    """The published repair checklist (the visits' answers are its steps)."""
    template = await session.scalar(
        select(ChecklistTemplate).where(ChecklistTemplate.key == "repair")
    )
    assert template is not None
    return template


def step_ids(content: dict[str, Any], *, required_only: bool = False) -> list[str]:
    """The template's step ids; ``required_only``: the required steps always shown."""
    return [
        step["id"]
        for phase in content["phases"]
        for step in phase["steps"]
        if not required_only or (step.get("required", True) and "visible_when" not in step)
    ]


def add_checklist(
    session: AsyncSession, visit: Visit, template: ChecklistTemplate, answered: list[str]
) -> None:
    """The visit pinned to the template, with these steps answered yes."""
    session.add(
        VisitChecklist(
            visit_id=visit.id,
            template_key=template.key,
            template_version=template.version,
            content_hash=template.content_hash,
        )
    )
    for step in answered:
        session.add(ChecklistAnswer(visit_id=visit.id, step_id=step, value=True))


def reschedule(visit: Visit, when: datetime, reason: str) -> WorkOrderEvent:
    """The visit's rescheduling, for a reason."""
    return WorkOrderEvent(
        work_order_id=visit.work_order_id,
        visit_id=visit.id,
        kind="visit.rescheduled",
        occurred_at=when,
        data={"reason": reason},
    )


def settled_clock(
    order: WorkOrder,
    target: str,
    *,
    met: bool,
    settled: datetime,
    computed_at: datetime,
    measure: str = "business",
) -> SlaClock:
    """A control deadline clock (600 minutes) settled met or breached at ``settled``."""
    return SlaClock(
        work_order_id=order.id,
        target=target,
        status="met" if met else "breached",
        measure=measure,
        target_minutes=600,
        started_at=order.created_at,
        stopped_at=settled if met else None,
        breached_at=None if met else settled,
        settled_at=settled,
        paused_minutes=0,
        computed_at=computed_at,
    )


def rating(
    visit: Visit,
    score: int,
    when: datetime,
    *,
    comment: str | None = None,
    confirmations: dict[str, bool] | None = None,
) -> Rating:
    """The customer's 1-5 rating of the visit."""
    return Rating(
        work_order_id=visit.work_order_id,
        visit_id=visit.id,
        score=score,
        comment=comment,
        confirmations=confirmations or {},
        created_at=when,
    )
