"""Pinning, recording answers through the engine, and the state of a visit's checklist."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from checklists import (
    OUTCOMES,
    Answer,
    AnswerRejected,
    ChecklistState,
    CompiledTemplate,
    GeoPoint,
    Lang,
    Location,
    Outcome,
    Pin,
    evaluate,
    validate_answer,
)
from service.common.actor import Actor
from service.common.geo import point_from_wkb
from service.db.base import utcnow
from service.db.models import ChecklistAnswer, Site, Visit, VisitChecklist, WorkOrder
from service.db.models.visits import LIVE_STATUSES
from service.errors import Conflict, FieldError, ValidationFailed
from service.scheduling.services import VisitService
from service.visit_checklists import schemas
from service.visit_checklists.registry import TemplateRegistry


class ChecklistService:
    """A visit's checklist: every answer passes the engine before it is stored."""

    def __init__(self, session: AsyncSession, actor: Actor, registry: TemplateRegistry) -> None:
        self.session = session
        self.actor = actor
        self.registry = registry

    async def pin(self, visit: Visit) -> tuple[Pin, CompiledTemplate]:
        """The version the visit follows; the latest published one on first use."""
        pinned = await self.session.get(VisitChecklist, visit.id)
        if pinned is None:
            order = await self.session.get_one(WorkOrder, visit.work_order_id)
            latest = await self.registry.latest_pin(self.session, order.type)
            # Two first answers racing: one insert wins, both read the same pin afterwards.
            await self.session.execute(
                insert(VisitChecklist)
                .values(
                    visit_id=visit.id,
                    template_key=latest.key,
                    template_version=latest.version,
                    content_hash=latest.content_hash,
                    pinned_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["visit_id"])
            )
            pinned = await self.session.get_one(VisitChecklist, visit.id, populate_existing=True)
        pin = Pin(pinned.template_key, pinned.template_version, pinned.content_hash)
        return pin, await self.registry.resolve(self.session, pin)

    async def record(
        self,
        visit: Visit,
        answer: Answer,
        *,
        operation_id: uuid.UUID | None = None,
        outcome: Outcome | None = None,
        lang: Lang = "ru",
    ) -> ChecklistAnswer:
        """Validate an answer against the pinned template and the answers so far, then store it.

        The same operation id twice returns the stored answer (offline phones resend).
        ``outcome`` is the outcome being declared when the answer belongs to its own steps;
        a refusal's message is in ``lang``.
        """
        if operation_id is not None:
            existing = await self.session.scalar(
                select(ChecklistAnswer).where(ChecklistAnswer.operation_id == operation_id)
            )
            if existing is not None:
                return existing
        if visit.status not in LIVE_STATUSES:
            raise Conflict(
                f"The visit is {visit.status}; its checklist is closed", code="visit_closed"
            )
        _, template = await self.pin(visit)
        answers = await self.effective_answers(visit.id)
        try:
            validate_answer(
                template,
                answers,
                answer,
                site=await self.site(visit),
                outcome=outcome or _outcome(visit),
                lang=lang,
            )
        except AnswerRejected as rejected:
            raise ValidationFailed(
                rejected.message,
                errors=[FieldError(field=f"answers.{rejected.step_id}", message=rejected.message)],
                code=rejected.code,
            ) from rejected
        row = ChecklistAnswer(
            visit_id=visit.id,
            step_id=answer.step_id,
            value=msgspec.to_builtins(answer.value),
            photo_ids=list(answer.photo_ids),
            answered_at=answer.answered_at,
            received_at=utcnow(),
            location=(
                f"SRID=4326;POINT({answer.location.lon!r} {answer.location.lat!r})"
                if answer.location
                else None
            ),
            accuracy_m=answer.location.accuracy_m if answer.location else None,
            operation_id=operation_id,
            recorded_by=self.actor.user_id,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def effective_answers(self, visit_id: uuid.UUID) -> dict[str, Answer]:
        """The latest answer per step (earlier ones stay in the table as history)."""
        return {row.step_id: _to_answer(row) for row in await self._latest_rows(visit_id)}

    async def state(
        self, visit: Visit, answers: dict[str, Answer], *, lang: Lang, outcome: Outcome | None
    ) -> ChecklistState:
        """The engine's verdict on these answers with the site's real position.

        Without the site the engine cannot tell a far arrival (geo_arrival stays unknown), so
        the note it then requires (geo_mismatch_note) would silently not be asked for.
        """
        _, template = await self.pin(visit)
        return evaluate(template, answers, lang=lang, site=await self.site(visit), outcome=outcome)

    async def view(self, visit_id: uuid.UUID, lang: Lang) -> schemas.VisitChecklistView:
        """State and compliance of a visit's checklist for someone allowed to see the visit."""
        visit = await VisitService(self.session, self.actor).get(visit_id)
        pin, template = await self.pin(visit)
        rows = await self._latest_rows(visit.id)
        state = evaluate(
            template,
            {row.step_id: _to_answer(row) for row in rows},
            lang=lang,
            site=await self.site(visit),
            outcome=_outcome(visit),
        )
        return schemas.VisitChecklistView(
            visit_id=visit.id,
            template=schemas.PinnedTemplate(pin.key, pin.version, pin.content_hash),
            state=state,
            answers=[
                schemas.RecordedAnswer(
                    step_id=row.step_id,
                    value=row.value,
                    photo_ids=list(row.photo_ids),
                    answered_at=row.answered_at,
                    received_at=row.received_at,
                    location=_location(row),
                )
                for row in rows
            ],
        )

    async def _latest_rows(self, visit_id: uuid.UUID) -> list[ChecklistAnswer]:
        latest = (
            select(func.max(ChecklistAnswer.id))
            .where(ChecklistAnswer.visit_id == visit_id)
            .group_by(ChecklistAnswer.step_id)
        )
        return list(
            (
                await self.session.scalars(
                    select(ChecklistAnswer)
                    .where(ChecklistAnswer.id.in_(latest))
                    .order_by(ChecklistAnswer.id)
                )
            ).all()
        )

    async def site(self, visit: Visit) -> GeoPoint:
        """The position of the visit's site, the one geo_check steps are measured against."""
        location = await self.session.scalar(
            select(Site.location)
            .join(WorkOrder, WorkOrder.site_id == Site.id)
            .where(WorkOrder.id == visit.work_order_id)
        )
        point = point_from_wkb(location)
        return GeoPoint(lat=point.lat, lon=point.lon)


def _outcome(visit: Visit) -> Outcome | None:
    """A visit that ended with an outcome status evaluates under that outcome."""
    return visit.status if visit.status in OUTCOMES else None


def _location(row: ChecklistAnswer) -> Location | None:
    if row.location is None:
        return None
    point = point_from_wkb(row.location)
    return Location(lat=point.lat, lon=point.lon, accuracy_m=row.accuracy_m)


def _to_answer(row: ChecklistAnswer) -> Answer:
    value: Any = row.value
    return msgspec.convert(
        {
            "step_id": row.step_id,
            "value": value,
            "answered_at": row.answered_at,
            "location": _location(row),
            "photo_ids": tuple(row.photo_ids),
        },
        Answer,
        from_attributes=True,
    )
