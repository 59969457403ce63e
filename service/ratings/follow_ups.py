"""Follow-up tasks for coordinators: the list, one task, and its resolution."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.actor import Actor
from service.common.pagination import TerritoryPageQuery, keyset_page, split_page
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import FollowUpTask, Rating, WorkOrder
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.ratings import schemas


def follow_up_schema(task: FollowUpTask, number: str, rating: Rating) -> schemas.FollowUp:
    """Model to API schema."""
    return schemas.FollowUp(
        id=task.id,
        work_order_id=task.work_order_id,
        work_order_number=number,
        visit_id=task.visit_id,
        territory_id=task.territory_id,
        reasons=list(task.reasons),  # type: ignore[arg-type]
        rating=schemas.FollowUpRating(
            score=rating.score,
            comment=rating.comment,
            confirmations=dict(rating.confirmations),
            created_at=rating.created_at,
        ),
        owner_id=task.owner_id,
        due_at=task.due_at,
        overdue=task.status == "open" and task.due_at <= utcnow(),
        status=task.status,  # type: ignore[arg-type]
        resolution=task.resolution,
        resolved_at=task.resolved_at,
        resolved_by=task.resolved_by,
        created_at=task.created_at,
    )


class FollowUpService:
    """Follow-ups of the caller's territories (all of them for admins)."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _select(self) -> Any:
        return (
            select(FollowUpTask, WorkOrder.number, Rating)
            .join(WorkOrder, WorkOrder.id == FollowUpTask.work_order_id)
            .join(Rating, Rating.id == FollowUpTask.rating_id)
            .where(territory_condition(self.actor, FollowUpTask.territory_id))
        )

    async def page(
        self, status: schemas.FollowUpStatus, mine: bool, query: TerritoryPageQuery
    ) -> schemas.FollowUpPage:
        """A page of follow-ups, newest first; ``mine`` keeps the caller's own."""
        stmt = self._select().where(FollowUpTask.status == status)
        if query.territory_id is not None:
            stmt = stmt.where(FollowUpTask.territory_id == query.territory_id)
        if mine:
            stmt = stmt.where(FollowUpTask.owner_id == self.actor.user_id)
        stmt = keyset_page(stmt, FollowUpTask, query.cursor, query.limit)
        rows = (await self.session.execute(stmt)).all()
        page, next_cursor = split_page(rows, query.limit, lambda r: (r[0].created_at, r[0].id))
        return schemas.FollowUpPage(
            items=[follow_up_schema(task, number, rating) for task, number, rating in page],
            next_cursor=next_cursor,
        )

    async def get(self, task_id: uuid.UUID) -> schemas.FollowUp:
        """One follow-up; outside the caller's territories it does not exist."""
        task, number, rating = await self._row(task_id)
        return follow_up_schema(task, number, rating)

    async def _row(self, task_id: uuid.UUID, *, lock: bool = False) -> Any:
        stmt = self._select().where(FollowUpTask.id == task_id)
        if lock:
            stmt = stmt.with_for_update(of=FollowUpTask)
        row = (await self.session.execute(stmt)).one_or_none()
        if row is None:
            raise NotFound("Follow-up not found")
        return row

    async def resolve(self, task_id: uuid.UUID, data: schemas.FollowUpResolve) -> schemas.FollowUp:
        """Close the task with what was done; a closed task stays closed."""
        comment = data.comment.strip()
        if not comment:
            raise ValidationFailed(
                "Say how the follow-up ended",
                errors=[FieldError(field="comment", message="required")],
                code="comment_required",
            )
        task, number, rating = await self._row(task_id, lock=True)
        if task.status != "open":
            raise Conflict("The follow-up is already resolved", code="already_resolved")
        task.status = "done"
        task.resolution = comment
        task.resolved_at = utcnow()
        task.resolved_by = self.actor.user_id
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "follow_up.resolved",
            "follow_up_task",
            task.id,
            before={"status": "open"},
            after={"status": "done"},
        )
        return follow_up_schema(task, number, rating)
