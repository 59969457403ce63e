"""Rules of the visit on site: state changes, distance checks, outcomes through the engine."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from sqlalchemy import Uuid, any_, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from checklists import Answer, Location
from checklists.schema import SignatureStep
from service.acts.content import act_kind
from service.audit.services import record
from service.common.actor import Actor
from service.common.i18n import DEFAULT_LANGUAGE, Language
from service.db.base import utcnow
from service.db.models import (
    Act,
    Photo,
    Site,
    TechnicianChange,
    Visit,
    VisitRecord,
    WorkOrder,
)
from service.db.models.visits import LIVE_STATUSES
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.execution import schemas
from service.execution.day_reads import DAY_VISITS, VERSION_VECTOR, day_etag, visit_bundle
from service.incidents.services import IncidentRouting, raise_incident
from service.orders import visit_lifecycle
from service.orders.lifecycle import Status, TransitionRefused, transition
from service.orders.visit_lifecycle import VisitStatus, VisitTransitionRefused
from service.ratings.services import RatingLinks, request_rating
from service.scheduling.services import LatenessService
from service.sla import kinds
from service.sla.events import record_event
from service.visit_checklists.registry import TemplateRegistry
from service.visit_checklists.services import ChecklistService

ARRIVAL_RADIUS_M = 300.0
MAX_DAYS = 7


class FieldworkService:
    """What a technician does on a visit; every call is scoped to the caller's own visits."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        registry: TemplateRegistry,
        *,
        rating_links: RatingLinks | None = None,
        incident_routing: IncidentRouting | None = None,
        language: Language = DEFAULT_LANGUAGE,
    ) -> None:
        self.session = session
        self.actor = actor
        self.registry = registry
        # The technician's language (the phone's Accept-Language): the engine's refusals in it.
        self.language = language
        self.checklists = ChecklistService(session, actor, registry)
        self.incident_routing = incident_routing or IncidentRouting()
        # Only the sync path ends visits; other users of this service never need the links.
        self.rating_links = rating_links
        # Visits locked in this transaction (None: no such visit), each read once.
        self._locked: dict[uuid.UUID, Visit | None] = {}

    async def lock_visits(self, visit_ids: set[uuid.UUID]) -> None:
        """Lock these visits in one statement; ``own_visit`` then answers from them.

        Locked in id order, so two batches sharing visits queue instead of deadlocking.
        """
        if not visit_ids:
            return
        found = {
            visit.id: visit
            for visit in await self.session.scalars(
                select(Visit)
                .where(Visit.id == any_(bindparam("ids", sorted(visit_ids), type_=ARRAY(Uuid()))))
                .order_by(Visit.id)
                .with_for_update()
            )
        }
        for visit_id in visit_ids:
            self._locked[visit_id] = found.get(visit_id)

    def forget_visit(self, visit_id: uuid.UUID) -> None:
        """Read the visit again next time (its changes were rolled back with a savepoint)."""
        self._locked.pop(visit_id, None)

    async def own_visit(self, visit_id: uuid.UUID) -> Visit:
        """The caller's visit, locked; taken away or cancelled ones are conflicts, others 404."""
        if visit_id in self._locked:
            visit = self._locked[visit_id]
        else:
            visit = await self.session.scalar(
                select(Visit).where(Visit.id == visit_id).with_for_update()
            )
            self._locked[visit_id] = visit
        if visit is None:
            raise NotFound("Visit not found")
        if visit.technician_id != self.actor.technician_id:
            was_mine = await self.session.scalar(
                select(
                    exists().where(
                        TechnicianChange.visit_id == visit_id,
                        TechnicianChange.technician_id == self.actor.technician_id,
                    )
                )
            )
            if was_mine:
                raise Conflict("The visit was reassigned to another technician", code="reassigned")
            raise NotFound("Visit not found")
        if visit.status == "cancelled":
            raise Conflict("The visit was cancelled", code="cancelled")
        return visit

    async def en_route(self, visit: Visit, eta: datetime, at: datetime) -> dict[str, Any]:
        """On my way: the customer hears the ETA; lateness is flagged before the window ends."""
        await LatenessService(self.session, self.actor).report_en_route(visit, eta, at)
        await record_event(
            self.session,
            visit.work_order_id,
            kinds.VISIT_EN_ROUTE,
            at=at,
            visit_id=visit.id,
            actor=self.actor,
            data={"eta": eta},
        )
        await record(
            self.session,
            self.actor,
            "visit.en_route",
            "visit",
            visit.id,
            after={"eta": eta, "at": at},
        )
        return {"status": visit.status, "eta": eta.isoformat()}

    async def arrive(self, visit: Visit, location: Location, at: datetime) -> dict[str, Any]:
        """At the door: distance to the site is measured and flagged beyond the radius."""
        try:
            arrived = visit_lifecycle.transition(visit.status, VisitStatus.ON_SITE)
        except VisitTransitionRefused as exc:
            raise Conflict(
                f"A visit that is {visit.status} cannot arrive", code="not_planned"
            ) from exc
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        point = f"SRID=4326;POINT({location.lon!r} {location.lat!r})"
        distance = float(
            await self.session.scalar(
                select(func.ST_Distance(Site.location, func.ST_GeogFromText(point))).where(
                    Site.id == order.site_id
                )
            )
            or 0.0
        )
        visit.status = arrived.value
        visit.arrived_at = at
        visit.arrival_location = point
        visit.arrival_distance_m = round(distance, 1)
        visit.arrival_flagged = distance > ARRIVAL_RADIUS_M + (location.accuracy_m or 0)
        if order.status == Status.SCHEDULED:
            order.status = transition(Status.SCHEDULED, Status.IN_PROGRESS).value
        await self.session.flush()
        await record_event(
            self.session,
            order.id,
            kinds.VISIT_ARRIVED,
            at=at,
            visit_id=visit.id,
            actor=self.actor,
            data={"distance_m": visit.arrival_distance_m},
        )
        await record(
            self.session,
            self.actor,
            "visit.arrived",
            "visit",
            visit.id,
            after={
                "at": at,
                "distance_m": visit.arrival_distance_m,
                "flagged": visit.arrival_flagged,
            },
        )
        return {
            "status": visit.status,
            "distance_m": visit.arrival_distance_m,
            "flagged": visit.arrival_flagged,
        }

    async def answer(
        self,
        visit: Visit,
        payload: schemas.AnswerPayload,
        at: datetime,
        location: Location | None,
        operation_id: uuid.UUID,
    ) -> dict[str, Any]:
        """A checklist answer, validated by the engine against the pinned template."""
        answer = msgspec.convert(
            {
                "step_id": payload.step_id,
                "value": payload.value,
                "answered_at": at,
                "location": location,
                "photo_ids": payload.photo_ids,
            },
            Answer,
            from_attributes=True,
        )
        answer = await self._phone_answer(visit, answer)
        row = await self.checklists.record(
            visit, answer, operation_id=operation_id, lang=self.language
        )
        return {"step_id": row.step_id, "answer_id": row.id}

    async def note(self, visit: Visit, text: str, at: datetime, op: uuid.UUID) -> dict[str, Any]:
        """A free-text note on the visit."""
        self._require_live(visit)
        # Not flushed: a batch's notes are inserted together (the request flushes before commit).
        self.session.add(
            VisitRecord(
                visit_id=visit.id, kind="note", data={"text": text}, device_time=at, operation_id=op
            )
        )
        return {"recorded": "note"}

    async def equipment(
        self, visit: Visit, payload: schemas.EquipmentPayload, at: datetime, op: uuid.UUID
    ) -> dict[str, Any]:
        """Serials of the equipment left with the customer (for the handover act)."""
        self._require_live(visit)
        self.session.add(
            VisitRecord(
                visit_id=visit.id,
                kind="equipment",
                data={"items": msgspec.to_builtins(payload.items)},
                device_time=at,
                operation_id=op,
            )
        )
        return {"recorded": len(payload.items)}

    async def outcome(
        self, visit: Visit, payload: schemas.OutcomePayload, at: datetime
    ) -> dict[str, Any]:
        """End the visit; the checklist engine decides whether this outcome is allowed now."""
        self._require_live(visit)
        # Live but not yet at the door: only "nobody opened" may end it (or anything en route).
        if not visit_lifecycle.can_transition(visit.status, payload.outcome):
            raise Conflict("Arrive first", code="not_arrived")
        for given in payload.answers:
            answer = msgspec.convert(
                {
                    "step_id": given.step_id,
                    "value": given.value,
                    "answered_at": at,
                    "photo_ids": given.photo_ids,
                },
                Answer,
            )
            answer = await self._phone_answer(visit, answer)
            await self.checklists.record(visit, answer, outcome=payload.outcome, lang=self.language)
        answers = await self.checklists.effective_answers(visit.id)
        state = await self.checklists.state(
            visit, answers, lang=self.language, outcome=payload.outcome
        )
        if state.outcome != payload.outcome:
            # The engine's reasons, in the technician's language (none: the outcome is not open).
            raise ValidationFailed(
                f"The checklist does not allow {payload.outcome} yet",
                errors=[
                    FieldError(field="outcome", message=b.message) for b in state.blocking_reasons
                ],
                code="checklist_blocks_outcome",
            )
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        before = {"visit": visit.status, "order": order.status}
        if not state.final:
            # e.g. waiting for an adult: the visit stays open and may still end as no_access.
            visit.outcome_reason = payload.reason or payload.outcome
        else:
            visit.status = visit_lifecycle.transition(visit.status, payload.outcome).value
            visit.outcome_reason = payload.reason
            visit.finished_at = at
            target = Status.COMPLETED if payload.outcome == "completed" else Status.ON_HOLD
            try:
                order.status = transition(Status(order.status), target).value
            except TransitionRefused as exc:
                raise Conflict(str(exc), code="invalid_transition") from exc
            if target is Status.ON_HOLD:
                order.hold_reason = (
                    f"{payload.outcome}: {payload.reason}" if payload.reason else payload.outcome
                )
        await self.session.flush()
        event_kind = kinds.VISIT_OUTCOMES.get(payload.outcome) if state.final else None
        if event_kind is not None:
            await record_event(
                self.session,
                order.id,
                event_kind,
                at=at,
                visit_id=visit.id,
                actor=self.actor,
                data={"reason": payload.reason},
            )
        if state.incident is not None:
            # 004 §5.4.10.5: raised with the outcome, in its transaction, and told at once.
            await raise_incident(
                self.session,
                definition=state.incident,
                visit=visit,
                order=order,
                outcome=payload.outcome,
                occurred_at=at,
                reason=payload.reason,
                routing=self.incident_routing,
            )
        if state.final and payload.outcome == "completed" and self.rating_links is not None:
            # 000 §9-10, 002: the customer is asked for a 1-5 rating after every service.
            await request_rating(self.session, visit, order, self.rating_links, self.actor.user_id)
        action = "incident.safety" if state.incident is not None else f"visit.{payload.outcome}"
        await record(
            self.session,
            self.actor,
            action,
            "visit",
            visit.id,
            before=before,
            after={
                "visit": visit.status,
                "order": order.status,
                "reason": payload.reason,
                "incident": msgspec.to_builtins(state.incident),
            },
        )
        return {
            "status": visit.status,
            "order_status": order.status,
            "final": state.final,
            "incident": msgspec.to_builtins(state.incident),
        }

    async def _phone_answer(self, visit: Visit, answer: Answer) -> Answer:
        """An answer from the phone, alone or with an outcome, as the checklist may keep it.

        The engine checks the answer's shape; what the phone can only claim is checked here:
        its photos are the visit's and stored, a signature is the act the customer signed.
        """
        await self._require_confirmed_photos(visit, answer.photo_ids)
        return await self._signed_act_answer(visit, answer)

    async def _signed_act_answer(self, visit: Visit, answer: Answer) -> Answer:
        """A signature step answered from the phone: the act the customer signed, or a refusal.

        Only the signing page records a signature; the phone merely repeats it (it may have
        answered the step offline). What the checklist keeps is the id of the visit's signed act
        of the step's document, whatever value the phone sent, so no answer claims a signature
        that does not exist.
        """
        _, template = await self.checklists.pin(visit)
        compiled = template.steps.get(answer.step_id)
        if compiled is None or not isinstance(compiled.step, SignatureStep):
            return answer
        act_id = await self.session.scalar(
            select(Act.id).where(
                Act.visit_id == visit.id,
                Act.kind == act_kind(compiled.step.document),
                Act.status != "draft",
            )
        )
        if act_id is None:
            raise ValidationFailed(
                "The customer has not signed the act of this visit",
                errors=[FieldError(field=f"answers.{answer.step_id}", message="no signed act")],
                code="act_not_signed",
            )
        return msgspec.structs.replace(answer, value=str(act_id))

    async def _require_confirmed_photos(self, visit: Visit, photo_ids: Sequence[str]) -> None:
        """Photos must belong to the visit and be confirmed (size and SHA-256 verified)."""
        if not photo_ids:
            return
        confirmed = await confirmed_photo_ids(self.session, visit.id)
        unknown = [p for p in photo_ids if p not in confirmed]
        if unknown:
            raise ValidationFailed(
                "Photos must be uploaded and confirmed first",
                errors=[
                    FieldError(field="photo_ids", message=f"not confirmed: {p}") for p in unknown
                ],
                code="photo_not_confirmed",
            )

    @staticmethod
    def _require_live(visit: Visit) -> None:
        if visit.status not in LIVE_STATUSES:
            raise Conflict(f"The visit is {visit.status}", code="visit_closed")


async def confirmed_photo_ids(session: AsyncSession, visit_id: uuid.UUID) -> set[str]:
    """Ids of the visit's photos whose bytes were verified (size and SHA-256)."""
    rows = await session.scalars(
        select(Photo.id).where(Photo.visit_id == visit_id, Photo.status == "stored")
    )
    return {str(r) for r in rows}


async def read_day(
    driver: asyncpg.Connection[Any],
    actor: Actor,
    registry: TemplateRegistry,
    start_day: date | None,
    end_day: date | None,
    known_etag: str | None,
    *,
    photo_max_side_px: int,
) -> tuple[str, schemas.DayBundle | None]:
    """The ETag of the technician's visits from start_day to end_day (local, inclusive, at most
    7 days) and their bundle, or None when the ETag is ``known_etag`` (nothing is built then);
    ``photo_max_side_px`` is the setting the phone downscales photos to.

    Read on an asyncpg connection: the day route's raw reads (``service.db.reads``), or a
    session's."""
    vector = await driver.fetchrow(
        VERSION_VECTOR, actor.technician_id, start_day, end_day, utcnow()
    )
    if vector is None:
        raise NotFound("Technician not found")
    time_zone, first, last, digest = vector
    if last < first or (last - first).days >= MAX_DAYS:
        raise ValidationFailed(
            f"The range is 1 to {MAX_DAYS} days",
            errors=[FieldError(field="to", message=f"at most {MAX_DAYS} days after from")],
        )
    etag = day_etag(time_zone, first, last, digest, photo_max_side_px)
    if etag == known_etag:
        return etag, None
    zone = ZoneInfo(time_zone)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    rows = await driver.fetch(DAY_VISITS, actor.technician_id, start, end)
    bundles = [visit_bundle(row) for row in rows]
    templates = await registry.encoded(
        driver, ((b.checklist.key, b.checklist.version) for b in bundles)
    )
    bundle = schemas.DayBundle(
        technician_id=actor.technician_id,  # type: ignore[arg-type]
        time_zone=time_zone,
        start=start,
        end=end,
        visits=bundles,
        templates=templates,
        etag=etag,
        photo_max_side_px=photo_max_side_px,
    )
    return etag, bundle
