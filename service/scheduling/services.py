"""Scheduling rules: availability, slot offers, race-safe booking, changes, day plans, lateness."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.actor import Actor, Role
from service.common.schemas import Point, Window
from service.db.base import utcnow
from service.db.models import (
    Absence,
    Shift,
    SlotPolicy,
    Technician,
    Territory,
    Visit,
    WorkOrder,
)
from service.db.models.technicians import technician_territories
from service.db.models.visits import LIVE_STATUSES
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.observability.metrics import BOOKINGS
from service.orders import visit_lifecycle
from service.orders.lifecycle import Status, TransitionRefused, transition
from service.orders.services import WorkOrderService
from service.orders.visit_lifecycle import VisitStatus, VisitTransitionRefused
from service.scheduling import notices, planning, queries, schemas
from service.scheduling.planning import Interval, TechnicianDay, TravelModel
from service.sla import kinds
from service.sla.events import record_visit_event
from service.technicians import feed
from service.territories.services import validate_time_zone

OVERLAP_CONSTRAINT = "ex_visits_technician_no_overlap"
ONE_LIVE_VISIT = "uq_visits_one_live_per_order"
DEADLOCK_DETECTED = "40P01"
MAX_SLOT_DAYS = 14
CANDIDATES_PER_SLOT = 5
REASON_TEXT = {
    planning.IN_PAST: "the window has already started",
    planning.OUTSIDE_SHIFT: "the window is outside the technician's shifts",
    planning.ABSENT: "the technician is absent then",
    planning.CAPACITY: "the technician's day is full",
    planning.UNREACHABLE: "the technician cannot arrive inside the window after the previous visit",
    planning.NEXT_AT_RISK: "the next visit of the technician would be missed",
    "overlaps_visit": "the technician has another visit then",
}
VISIT_FIELDS = (
    "technician_id",
    "status",
    "agreed_with",
    "agreement_channel",
    "planned_start",
    "last_change_reason",
    "cancel_reason",
)


def visit_schema(visit: Visit) -> schemas.Visit:
    """Model to API schema."""
    window = visit.agreed_window
    assert window.lower is not None
    assert window.upper is not None
    return schemas.Visit(
        id=visit.id,
        work_order_id=visit.work_order_id,
        technician_id=visit.technician_id,
        status=visit.status,
        window=Window(start=window.lower, end=window.upper),
        agreed_with=visit.agreed_with,
        agreement_channel=visit.agreement_channel,
        agreed_at=visit.agreed_at,
        planned_start=visit.planned_start,
        eta=visit.eta,
        en_route_at=visit.en_route_at,
        arrived_at=visit.arrived_at,
        finished_at=visit.finished_at,
        last_change_reason=visit.last_change_reason,
        cancel_reason=visit.cancel_reason,
        version=visit.version,
        created_at=visit.created_at,
        updated_at=visit.updated_at,
    )


def _audit_view(visit: Visit) -> dict[str, object]:
    window = visit.agreed_window
    return {
        **{name: getattr(visit, name) for name in VISIT_FIELDS},
        "window": [window.lower, window.upper],
    }


def _interval(window: Window) -> Interval:
    return Interval(window.start.astimezone(UTC), window.end.astimezone(UTC))


def _problem(field: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field=field, message=message)], code=code)


def _refusal(reason: str) -> ValidationFailed:
    """A 422 naming why the technician cannot take the window."""
    return _problem("window", f"Not possible: {REASON_TEXT.get(reason, reason)}", code=reason)


def _lost_to_overlap(exc: DBAPIError) -> bool:
    """Whether a visit write lost to an overlapping visit of the same technician.

    The exclusion constraint refuses it; or, when two transactions insert at the same moment,
    each one's constraint check waits for the other's row and PostgreSQL ends the deadlock by
    failing one of them. Either way the other booking stands and this one is a conflict.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return OVERLAP_CONSTRAINT in str(exc) or sqlstate == DEADLOCK_DETECTED


class SchedulingContext:
    """Loads what every scheduling decision needs about an order's site."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_order(self, order: WorkOrder) -> tuple[Territory, SlotPolicy, TravelModel]:
        """The site's territory, the work type's slot policy and the travel model."""
        territory = await self.session.get_one(Territory, order.territory_id)
        policy = await self.session.get(SlotPolicy, order.type)
        if policy is None:
            policy = SlotPolicy(
                work_type=order.type, window_minutes=120, service_minutes=60, lead_minutes=60
            )
        travel = TravelModel(territory.travel_speed_kmh, territory.detour_factor)
        return territory, policy, travel

    async def service_minutes(self) -> dict[str, timedelta]:
        """Service time per work type."""
        policies = (await self.session.scalars(select(SlotPolicy))).all()
        return {p.work_type: timedelta(minutes=p.service_minutes) for p in policies}

    async def technician_days(
        self,
        order: WorkOrder,
        candidates: Sequence[queries.CandidateRow],
        start: datetime,
        end: datetime,
        travel: TravelModel,
        *,
        exclude_visit: uuid.UUID | None = None,
    ) -> dict[tuple[uuid.UUID, date], TechnicianDay]:
        """Each candidate's local days between start and end, ready for ``planning.evaluate``."""
        ids = [c.id for c in candidates]
        if not ids:
            return {}
        weekly = await queries.shifts(self.session, ids)
        away = await queries.absences(self.session, ids, start - timedelta(days=1), end)
        booked = await queries.busy(
            self.session,
            ids,
            order.site_id,
            start - timedelta(days=1),
            end + timedelta(days=1),
            exclude_visit=exclude_visit,
        )
        durations = await self.service_minutes()
        days: dict[tuple[uuid.UUID, date], TechnicianDay] = {}
        for candidate in candidates:
            zone = ZoneInfo(candidate.time_zone)
            local = start.astimezone(zone).date()
            last = end.astimezone(zone).date()
            while local <= last:
                shift_list = planning.shift_intervals(local, zone, weekly.get(candidate.id, []))
                day_start = datetime.combine(local, time(0), tzinfo=zone)
                day_end = day_start + timedelta(days=1)
                visits = [
                    planning.BookedVisit(
                        window=row.window,
                        service=durations.get(row.work_type, timedelta(hours=1)),
                        to_target_m=row.distance_m,
                        from_target_m=row.distance_m,
                    )
                    for row in booked.get(candidate.id, [])
                    if day_start <= row.window.start < day_end
                ]
                days[(candidate.id, local)] = TechnicianDay(
                    technician_id=candidate.id,
                    shifts=shift_list,
                    absences=away.get(candidate.id, []),
                    visits=visits,
                    capacity=candidate.capacity,
                    home_to_target_m=candidate.home_distance_m,
                    travel=travel,
                )
                local += timedelta(days=1)
        return days


class AvailabilityService:
    """Weekly schedules and absences of technicians."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def technician(self, technician_id: uuid.UUID) -> Technician:
        """A technician the caller may see: staff of a shared territory, or themselves."""
        if self.actor.role is Role.TECHNICIAN:
            if technician_id != self.actor.technician_id:
                raise NotFound("Technician not found")
            return await self.session.get_one(Technician, technician_id)
        stmt = select(Technician).where(Technician.id == technician_id)
        if not self.actor.is_admin:
            stmt = stmt.where(
                exists().where(
                    technician_territories.c.technician_id == Technician.id,
                    technician_territories.c.territory_id.in_(self.actor.territory_ids or [None]),
                )
            )
        technician = await self.session.scalar(stmt)
        if technician is None:
            raise NotFound("Technician not found")
        return technician

    async def schedule(self, technician_id: uuid.UUID) -> schemas.WeeklySchedule:
        """The weekly schedule."""
        technician = await self.technician(technician_id)
        rows = (
            await self.session.scalars(
                select(Shift)
                .where(Shift.technician_id == technician_id)
                .order_by(Shift.weekday, Shift.starts)
            )
        ).all()
        return schemas.WeeklySchedule(
            time_zone=technician.time_zone,
            daily_capacity=technician.daily_capacity,
            shifts=[
                schemas.ShiftSpec(weekday=r.weekday, starts=r.starts, ends=r.ends) for r in rows
            ],
        )

    async def replace_schedule(
        self, technician_id: uuid.UUID, data: schemas.WeeklySchedule
    ) -> schemas.WeeklySchedule:
        """Replace the whole week; overlapping shifts on one day are refused."""
        technician = await self.technician(technician_id)
        validate_time_zone(data.time_zone)
        by_day = sorted(data.shifts, key=lambda s: (s.weekday, s.starts))
        for first, second in itertools.pairwise(by_day):
            if first.weekday == second.weekday and second.starts < first.ends:
                raise _problem("shifts", f"shifts overlap on weekday {first.weekday}")
        before = await self.schedule(technician_id)
        await self.session.execute(delete(Shift).where(Shift.technician_id == technician_id))
        self.session.add_all(
            Shift(technician_id=technician_id, weekday=s.weekday, starts=s.starts, ends=s.ends)
            for s in by_day
        )
        technician.time_zone = data.time_zone
        technician.daily_capacity = data.daily_capacity
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "technician.schedule_replaced",
            "technician",
            technician_id,
            before=before,
            after=data,
        )
        return await self.schedule(technician_id)

    async def absences(
        self, technician_id: uuid.UUID, start: datetime, end: datetime
    ) -> list[schemas.Absence]:
        """Absences overlapping [start, end)."""
        await self.technician(technician_id)
        if end < start:
            # PostgreSQL refuses a range whose bounds are reversed.
            raise _problem("to", "`to` must not be before `from`", code="reversed_period")
        rows = (
            await self.session.scalars(
                select(Absence)
                .where(
                    Absence.technician_id == technician_id,
                    Absence.period.op("&&")(func.tstzrange(start, end)),
                )
                .order_by(func.lower(Absence.period))
            )
        ).all()
        return [_absence_schema(a) for a in rows]

    async def add_absence(
        self, technician_id: uuid.UUID, data: schemas.AbsenceCreate
    ) -> schemas.Absence:
        """Record an absence; live visits inside it must be moved first (409 lists them)."""
        await self.technician(technician_id)
        period = _interval(data.period)
        clashing = (
            await self.session.scalars(
                select(Visit.id).where(
                    Visit.technician_id == technician_id,
                    Visit.status.in_(LIVE_STATUSES),
                    Visit.agreed_window.op("&&")(func.tstzrange(period.start, period.end)),
                )
            )
        ).all()
        if clashing:
            raise Conflict(
                "The technician has visits in that period; reschedule or reassign them first: "
                + ", ".join(str(v) for v in clashing),
                code="visits_in_period",
            )
        absence = Absence(
            technician_id=technician_id,
            period=queries.to_range(period),
            kind=data.kind,
            note=data.note,
        )
        self.session.add(absence)
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "technician.absence_added",
            "technician",
            technician_id,
            after={"period": [period.start, period.end], "kind": data.kind},
        )
        return _absence_schema(absence)

    async def remove_absence(self, technician_id: uuid.UUID, absence_id: uuid.UUID) -> None:
        """Delete an absence."""
        await self.technician(technician_id)
        absence = await self.session.scalar(
            select(Absence).where(Absence.id == absence_id, Absence.technician_id == technician_id)
        )
        if absence is None:
            raise NotFound("Absence not found")
        await record(
            self.session,
            self.actor,
            "technician.absence_removed",
            "technician",
            technician_id,
            before={"absence_id": absence_id, "kind": absence.kind},
        )
        await self.session.delete(absence)
        await self.session.flush()


def _absence_schema(absence: Absence) -> schemas.Absence:
    assert absence.period.lower is not None
    assert absence.period.upper is not None
    return schemas.Absence(
        id=absence.id,
        technician_id=absence.technician_id,
        period=Window(start=absence.period.lower, end=absence.period.upper),
        kind=absence.kind,
        note=absence.note,
    )


class SlotService:
    """Windows on offer for a work order."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def offer(
        self, order_id: uuid.UUID, start_day: date | None, days: int
    ) -> schemas.SlotOffer:
        """Windows from ``start_day`` (site-local, default today) for ``days`` days."""
        order = await WorkOrderService(self.session, self.actor).get(order_id)
        if order.status not in (Status.NEW, Status.SCHEDULED, Status.ON_HOLD, Status.IN_PROGRESS):
            raise Conflict(f"A {order.status} work order is not scheduled any more")
        context = SchedulingContext(self.session)
        territory, policy, travel = await context.for_order(order)
        zone = ZoneInfo(territory.time_zone)
        now = utcnow()
        first_day = start_day or now.astimezone(zone).date()
        start = datetime.combine(first_day, time(0), tzinfo=zone)
        end = start + timedelta(days=days)
        found = await queries.candidates(self.session, order.site_id, list(order.required_skills))
        technician_days = await context.technician_days(order, found, start, end, travel)
        names = {c.id: c.full_name for c in found}
        width = timedelta(minutes=policy.window_minutes)
        service = timedelta(minutes=policy.service_minutes)
        not_before = now + timedelta(minutes=policy.lead_minutes)
        slots: list[schemas.Slot] = []
        for offset in range(days):
            local_day = first_day + timedelta(days=offset)
            day_shifts = [
                shift
                for (_, day), plan in technician_days.items()
                if day == local_day
                for shift in plan.shifts
            ]
            for window in planning.slot_grid(_merge(day_shifts), width, width, zone):
                fits = []
                for (_, day), plan in technician_days.items():
                    if day != local_day:
                        continue
                    result = planning.evaluate(plan, window, service, not_before=not_before)
                    if isinstance(result, planning.Fit):
                        fits.append(result)
                if fits:
                    slots.append(
                        schemas.Slot(
                            window=Window(
                                start=window.start.astimezone(zone), end=window.end.astimezone(zone)
                            ),
                            candidates=[
                                _candidate(fit, names, zone)
                                for fit in planning.rank(fits)[:CANDIDATES_PER_SLOT]
                            ],
                        )
                    )
        return schemas.SlotOffer(
            work_order_id=order.id,
            time_zone=territory.time_zone,
            window_minutes=policy.window_minutes,
            service_minutes=policy.service_minutes,
            slots=slots,
        )


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, interval.end))
        else:
            merged.append(interval)
    return merged


def _candidate(fit: planning.Fit, names: dict[uuid.UUID, str], zone: ZoneInfo) -> schemas.Candidate:
    technician_id = fit.technician_id
    assert isinstance(technician_id, uuid.UUID)
    return schemas.Candidate(
        technician_id=technician_id,
        full_name=names[technician_id],
        distance_km=round(fit.distance_m / 1000, 2),
        travel_minutes=fit.travel_minutes,
        visits_that_day=fit.load,
        estimated_arrival=fit.arrival.astimezone(zone),
    )


class VisitService:
    """Booking and changing visits; every change is audited and notifies whom it concerns."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.context = SchedulingContext(session)

    async def get(self, visit_id: uuid.UUID, *, for_update: bool = False) -> Visit:
        """A visit in scope: technicians their own, staff their territories."""
        stmt = select(Visit).where(Visit.id == visit_id)
        if self.actor.role is Role.TECHNICIAN:
            stmt = stmt.where(Visit.technician_id == self.actor.technician_id)
        elif not self.actor.is_admin:
            stmt = stmt.where(
                exists().where(
                    WorkOrder.id == Visit.work_order_id,
                    WorkOrder.territory_id.in_(self.actor.territory_ids or [None]),
                )
            )
        if for_update:
            stmt = stmt.with_for_update()
        visit = await self.session.scalar(stmt)
        if visit is None:
            raise NotFound("Visit not found")
        return visit

    async def for_order(self, order_id: uuid.UUID) -> list[Visit]:
        """All visits of an order in scope, oldest first."""
        await WorkOrderService(self.session, self.actor).get(order_id)
        stmt = select(Visit).where(Visit.work_order_id == order_id)
        if self.actor.role is Role.TECHNICIAN:
            stmt = stmt.where(Visit.technician_id == self.actor.technician_id)
        return list((await self.session.scalars(stmt.order_by(Visit.created_at))).all())

    async def book(self, order_id: uuid.UUID, data: schemas.VisitCreate) -> Visit:
        """Book a visit in an agreed window; the exclusion constraint settles races (409)."""
        order = await WorkOrderService(self.session, self.actor).get(order_id, for_update=True)
        if order.status not in (Status.NEW, Status.IN_PROGRESS):
            raise Conflict(
                f"A {order.status} work order cannot be booked"
                + ("; reschedule its visit instead" if order.status == Status.SCHEDULED else ""),
                code="not_bookable",
            )
        if data.agreed_by is None:
            raise _problem("agreed_by", "Say who agreed the window with the customer, and how")
        territory, policy, travel = await self.context.for_order(order)
        window = self._check_window(data.window, policy)
        candidates = await self._candidates(order, data.technician_id)
        fits = await self._fits(order, candidates, window, policy, travel)
        if data.technician_id is not None and not fits:
            raise _refusal(await self._why(order, candidates, window, policy, travel))
        if not fits:
            raise _problem(
                "window", "No qualified technician can come in this window", code="no_candidate"
            )
        now = utcnow()
        for fit in fits:
            visit = Visit(
                work_order_id=order.id,
                technician_id=fit.technician_id,
                agreed_window=queries.to_range(window),
                status=VisitStatus.PLANNED.value,
                agreed_with=data.agreed_by.name,
                agreement_channel=data.agreed_by.channel,
                agreed_at=now,
                planned_start=fit.arrival,
                created_by=self.actor.user_id,
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(visit)
                    await self.session.flush()
            except DBAPIError as exc:
                if ONE_LIVE_VISIT in str(exc):
                    raise Conflict(
                        "The work order already has a live visit", code="live_visit_exists"
                    ) from exc
                if not _lost_to_overlap(exc):
                    raise
                BOOKINGS.labels("lost_race").inc()
                if data.technician_id is not None:
                    raise Conflict(
                        "The technician already has a visit in that window", code="overlap"
                    ) from exc
                continue  # someone took this technician meanwhile: the next best one
            break
        else:
            raise Conflict("Every candidate was booked meanwhile; reload the slots", code="overlap")
        BOOKINGS.labels("booked").inc()
        before_status = order.status
        self._move(order, Status.SCHEDULED)
        await self.session.flush()
        await notices.visit_booked(self.session, visit, order, territory)
        await feed.visit_changed(self.session, visit.technician_id, visit.id, "visit.assigned")
        await self._log_change(
            kinds.VISIT_BOOKED,
            visit,
            None,
            {"order_status": [before_status, order.status]},
        )
        return visit

    async def reschedule(self, visit_id: uuid.UUID, data: schemas.Reschedule) -> Visit:
        """Move the promised window, with a reason and the customer's agreement."""
        problems = []
        if data.reason_code is None:
            problems.append(FieldError(field="reason_code", message="required"))
        if data.agreed_by is None:
            problems.append(FieldError(field="agreed_by", message="required: who agreed, how"))
        if problems:
            raise ValidationFailed(
                "A reschedule needs a reason and the customer's agreement", errors=problems
            )
        assert data.agreed_by is not None
        visit = await self.get(visit_id, for_update=True)
        if visit.status != "planned":
            raise Conflict(
                f"A visit that is {visit.status} cannot be rescheduled", code="not_planned"
            )
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        territory, policy, travel = await self.context.for_order(order)
        window = self._check_window(data.window, policy)
        candidates = await self._candidates(order, visit.technician_id)
        fits = await self._fits(order, candidates, window, policy, travel, exclude=visit.id)
        if not fits:
            raise _refusal(
                await self._why(order, candidates, window, policy, travel, exclude=visit.id)
            )
        before = _audit_view(visit)
        old_window = visit.agreed_window
        visit.agreed_window = queries.to_range(window)
        visit.planned_start = fits[0].arrival
        visit.agreed_with = data.agreed_by.name
        visit.agreement_channel = data.agreed_by.channel
        visit.agreed_at = utcnow()
        visit.last_change_reason = data.reason_code
        visit.late_notified_at = None
        await self._flush_window_change()
        await notices.visit_rescheduled(self.session, visit, order, territory, old_window)
        await feed.visit_changed(self.session, visit.technician_id, visit.id, "visit.rescheduled")
        await self._log_change(
            kinds.VISIT_RESCHEDULED,
            visit,
            before,
            {"note": data.note},
            reason=data.reason_code,
            old_window=old_window,
        )
        return visit

    async def reassign(self, visit_id: uuid.UUID, data: schemas.Reassign) -> Visit:
        """Give the visit to another qualified, free technician; the window does not change."""
        if data.reason_code is None:
            raise _problem("reason_code", "A reassignment needs a reason")
        visit = await self.get(visit_id, for_update=True)
        if visit.status != "planned":
            raise Conflict(
                f"A visit that is {visit.status} cannot be reassigned", code="not_planned"
            )
        if data.technician_id == visit.technician_id:
            raise _problem("technician_id", "The visit is already assigned to this technician")
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        territory, policy, travel = await self.context.for_order(order)
        window = Interval(visit.agreed_window.lower, visit.agreed_window.upper)  # type: ignore[arg-type]
        candidates = [
            c
            for c in await self._candidates(order, data.technician_id)
            if c.id != visit.technician_id
        ]
        fits = await self._fits(
            order, candidates, window, policy, travel, exclude=visit.id, check_past=False
        )
        if not fits:
            if data.technician_id is not None:
                raise _refusal(
                    await self._why(order, candidates, window, policy, travel, exclude=visit.id)
                )
            raise _problem(
                "technician_id", "No other qualified technician is free then", code="no_candidate"
            )
        before = _audit_view(visit)
        previous_technician = visit.technician_id
        for fit in fits:
            try:
                async with self.session.begin_nested():
                    visit.technician_id = fit.technician_id  # type: ignore[assignment]
                    visit.planned_start = fit.arrival
                    visit.last_change_reason = data.reason_code
                    await self.session.flush()
            except DBAPIError as exc:
                if not _lost_to_overlap(exc):
                    raise
                if data.technician_id is not None:
                    raise self._overlap(exc) from exc
                continue
            break
        else:
            raise Conflict("Every candidate was booked meanwhile", code="overlap")
        await notices.visit_reassigned(self.session, visit, order, territory, previous_technician)
        await feed.visit_changed(self.session, previous_technician, visit.id, "visit.unassigned")
        await feed.visit_changed(self.session, visit.technician_id, visit.id, "visit.assigned")
        await self._log_change(
            kinds.VISIT_REASSIGNED,
            visit,
            before,
            {"note": data.note},
            reason=data.reason_code,
            previous_technician_id=previous_technician,
        )
        return visit

    async def cancel(self, visit_id: uuid.UUID, reason: str) -> Visit:
        """Cancel a visit that has not started; the order goes back to new."""
        visit = await self.get(visit_id, for_update=True)
        try:
            cancelled = visit_lifecycle.transition(visit.status, VisitStatus.CANCELLED)
        except VisitTransitionRefused as exc:
            raise Conflict(
                f"A visit that is {visit.status} cannot be cancelled", code="not_cancellable"
            ) from exc
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        before = _audit_view(visit)
        visit.status = cancelled.value
        visit.cancel_reason = reason
        if order.status == Status.SCHEDULED:
            self._move(order, Status.NEW)
        await self.session.flush()
        territory = await self.session.get_one(Territory, order.territory_id)
        await notices.visit_cancelled(self.session, visit, order, territory)
        await feed.visit_changed(self.session, visit.technician_id, visit.id, "visit.cancelled")
        await self._log_change(kinds.VISIT_CANCELLED, visit, before, {}, reason=reason)
        return visit

    async def _log_change(
        self,
        kind: str,
        visit: Visit,
        before: dict[str, Any] | None,
        audit_extra: dict[str, Any],
        **event_data: Any,
    ) -> None:
        """A change to a visit goes to its order's event log (clocks) and to the audit log."""
        await record_visit_event(self.session, kind, visit, self.actor, **event_data)
        await record(
            self.session,
            self.actor,
            kind,
            "visit",
            visit.id,
            before=before,
            after=_audit_view(visit) | audit_extra,
        )

    async def move_plan(self, visit_id: uuid.UUID, planned_start: datetime) -> Visit:
        """Move the internal plan; it stays inside the promised window."""
        visit = await self.get(visit_id, for_update=True)
        lower, upper = visit.agreed_window.lower, visit.agreed_window.upper
        assert lower is not None
        assert upper is not None
        if not lower <= planned_start < upper:
            raise _problem("planned_start", "The plan must stay inside the promised window")
        visit.planned_start = planned_start
        await self.session.flush()
        return visit

    # -- helpers ---------------------------------------------------------------------------

    def _check_window(self, window: Window, policy: SlotPolicy) -> Interval:
        interval = _interval(window)
        if interval.start < utcnow():
            raise _problem("window", "The window is in the past", code="in_the_past")
        if interval.end - interval.start > timedelta(minutes=policy.window_minutes):
            raise _problem(
                "window",
                f"A {policy.work_type} window is at most {policy.window_minutes} minutes wide",
                code="too_wide",
            )
        return interval

    async def _candidates(
        self, order: WorkOrder, technician_id: uuid.UUID | None
    ) -> list[queries.CandidateRow]:
        found = await queries.candidates(
            self.session, order.site_id, list(order.required_skills), only=technician_id
        )
        if technician_id is not None and not found:
            technician = await self.session.get(Technician, technician_id)
            if technician is None:
                raise _problem("technician_id", "Unknown technician")
            if not technician.active:
                raise _problem("technician_id", "The technician is not active")
            if not set(order.required_skills) <= set(technician.skills):
                raise _problem(
                    "technician_id",
                    "The technician lacks skills: "
                    + ", ".join(sorted(set(order.required_skills) - set(technician.skills))),
                    code="unqualified",
                )
            raise _problem(
                "technician_id",
                "The technician does not serve this site's territory",
                code="outside_territory",
            )
        return found

    async def _fits(
        self,
        order: WorkOrder,
        candidates: list[queries.CandidateRow],
        window: Interval,
        policy: SlotPolicy,
        travel: TravelModel,
        *,
        exclude: uuid.UUID | None = None,
        check_past: bool = True,
    ) -> list[planning.Fit]:
        days = await self.context.technician_days(
            order, candidates, window.start, window.end, travel, exclude_visit=exclude
        )
        service = timedelta(minutes=policy.service_minutes)
        not_before = utcnow() if check_past else datetime.min.replace(tzinfo=UTC)
        fits = []
        for candidate in candidates:
            local_day = window.start.astimezone(ZoneInfo(candidate.time_zone)).date()
            plan = days.get((candidate.id, local_day))
            if plan is None:
                continue
            # Overlaps are left to the exclusion constraint: it alone decides races.
            result = planning.evaluate(
                plan, window, service, not_before=not_before, ignore_overlaps=True
            )
            if isinstance(result, planning.Fit):
                fits.append(result)
        return planning.rank(fits)

    async def _why(
        self,
        order: WorkOrder,
        candidates: list[queries.CandidateRow],
        window: Interval,
        policy: SlotPolicy,
        travel: TravelModel,
        *,
        exclude: uuid.UUID | None = None,
    ) -> str:
        if not candidates:
            return planning.OUTSIDE_SHIFT
        candidate = candidates[0]
        days = await self.context.technician_days(
            order, [candidate], window.start, window.end, travel, exclude_visit=exclude
        )
        local_day = window.start.astimezone(ZoneInfo(candidate.time_zone)).date()
        plan = days[(candidate.id, local_day)]
        result = planning.evaluate(
            plan,
            window,
            timedelta(minutes=policy.service_minutes),
            not_before=datetime.min.replace(tzinfo=UTC),
            ignore_overlaps=True,
        )
        return result if isinstance(result, str) else planning.OUTSIDE_SHIFT

    @staticmethod
    def _overlap(exc: DBAPIError) -> Conflict:
        return Conflict("The technician already has a visit in that window", code="overlap")

    async def _flush_window_change(self) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except DBAPIError as exc:
            if _lost_to_overlap(exc):
                raise self._overlap(exc) from exc
            raise

    @staticmethod
    def _move(order: WorkOrder, target: Status) -> None:
        try:
            order.status = transition(Status(order.status), target).value
        except TransitionRefused as exc:
            raise Conflict(str(exc), code="invalid_transition") from exc


class DayPlanService:
    """A technician's day in order, with travel and predicted arrivals."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def day(self, technician_id: uuid.UUID, day: date | None) -> schemas.DayPlan:
        """Visits of the technician's local day ``day`` (default today)."""
        technician = await AvailabilityService(self.session, self.actor).technician(technician_id)
        zone = ZoneInfo(technician.time_zone)
        now = utcnow()
        day = day or now.astimezone(zone).date()
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = start + timedelta(days=1)
        weekly = await queries.shifts(self.session, [technician_id])
        shifts = planning.shift_intervals(day, zone, weekly.get(technician_id, []))
        rows = (
            await self.session.execute(_DAY, {"tid": technician_id, "start": start, "end": end})
        ).all()
        durations = await SchedulingContext(self.session).service_minutes()
        travel = await self._travel(technician_id)
        stops = [
            planning.PlannedStop(
                window=Interval(r.lower, r.upper),
                service=durations.get(r.type, timedelta(hours=1)),
                distance_from_previous_m=float(r.from_previous or 0),
                reported_eta=r.eta,
                arrived_at=r.arrived_at,
                finished_at=r.finished_at,
            )
            for r in rows
        ]
        day_start = shifts[0].start if shifts else start
        predictions = planning.predict_day(stops, day_start, travel, now)
        return schemas.DayPlan(
            technician_id=technician_id,
            date=day,
            time_zone=technician.time_zone,
            shifts=[Window(start=s.start, end=s.end) for s in shifts],
            stops=[
                schemas.DayStop(
                    visit_id=r.id,
                    work_order_id=r.work_order_id,
                    work_order_number=r.number,
                    work_type=r.type,
                    status=r.status,
                    window=Window(start=r.lower.astimezone(zone), end=r.upper.astimezone(zone)),
                    address=r.address,
                    location=Point(lat=r.lat, lon=r.lon),
                    distance_from_previous_km=round(float(r.from_previous or 0) / 1000, 2),
                    travel_minutes=p.travel_minutes,
                    predicted_arrival=p.arrival.astimezone(zone),
                    late=p.late,
                )
                for r, p in zip(rows, predictions, strict=True)
            ],
        )

    async def _travel(self, technician_id: uuid.UUID) -> TravelModel:
        territory = await self.session.scalar(
            select(Territory)
            .join(technician_territories, technician_territories.c.territory_id == Territory.id)
            .where(technician_territories.c.technician_id == technician_id)
            .limit(1)
        )
        if territory is None:
            return TravelModel()
        return TravelModel(territory.travel_speed_kmh, territory.detour_factor)


# The previous stop's site (or the home base for the first) comes from a window function, so the
# whole day is one query.
_DAY = text(
    """
    SELECT v.id, v.work_order_id, v.status, v.eta, v.arrived_at, v.finished_at,
           lower(v.agreed_window) AS lower, upper(v.agreed_window) AS upper,
           wo.number, wo.type, s.address,
           ST_Y(s.location::geometry) AS lat, ST_X(s.location::geometry) AS lon,
           ST_Distance(
               s.location,
               COALESCE(LAG(s.location) OVER (ORDER BY lower(v.agreed_window)), t.home_base)
           ) AS from_previous
    FROM visits v
    JOIN work_orders wo ON wo.id = v.work_order_id
    JOIN sites s ON s.id = wo.site_id
    JOIN technicians t ON t.id = v.technician_id
    WHERE v.technician_id = :tid
      AND v.agreed_window && tstzrange(:start, :end)
      AND v.status <> 'cancelled'
    ORDER BY lower(v.agreed_window)
    """
)


class LatenessService:
    """Raises visit.late_predicted before a promised window is missed."""

    def __init__(self, session: AsyncSession, actor: Actor | None = None) -> None:
        self.session = session
        self.actor = actor

    async def report_en_route(
        self, visit: Visit, eta: datetime, at: datetime | None = None
    ) -> Visit:
        """The technician is on the way: tell the customer the ETA; flag lateness at once."""
        try:
            visit.status = visit_lifecycle.transition(visit.status, VisitStatus.EN_ROUTE).value
        except VisitTransitionRefused as exc:
            raise Conflict(
                f"A visit that is {visit.status} cannot be en route", code="not_planned"
            ) from exc
        visit.en_route_at = visit.en_route_at or at or utcnow()
        visit.eta = eta
        await self.session.flush()
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        await notices.visit_en_route(self.session, visit, order, territory)
        if visit.agreed_window.upper is not None and eta > visit.agreed_window.upper:
            await self._raise_late(visit, order, territory, eta)
        return visit

    async def sweep(self, now: datetime | None = None) -> int:
        """Check today's live visits of every technician; returns how many were flagged late."""
        now = now or utcnow()
        technician_ids = (
            await self.session.scalars(
                select(Visit.technician_id)
                .where(
                    Visit.status.in_(("planned", "en_route")),
                    Visit.late_notified_at.is_(None),
                    Visit.agreed_window.op("&&")(func.tstzrange(now, now + timedelta(hours=12))),
                )
                .distinct()
            )
        ).all()
        flagged = 0
        system = Actor(user_id=uuid.UUID(int=0), role=Role.ADMIN, territory_ids=frozenset())
        for technician_id in technician_ids:
            technician = await self.session.get_one(Technician, technician_id)
            local_day = now.astimezone(ZoneInfo(technician.time_zone)).date()
            plan = await DayPlanService(self.session, system).day(technician_id, local_day)
            for stop in plan.stops:
                if not stop.late or stop.status not in ("planned", "en_route"):
                    continue
                if stop.window.end <= now:
                    continue  # already missed: that is the coordinators' overdue board
                visit = await self.session.get_one(Visit, stop.visit_id, with_for_update=True)
                if visit.late_notified_at is not None:
                    continue
                order = await self.session.get_one(WorkOrder, visit.work_order_id)
                territory = await self.session.get_one(Territory, order.territory_id)
                await self._raise_late(visit, order, territory, stop.predicted_arrival)
                flagged += 1
        return flagged

    async def _raise_late(
        self, visit: Visit, order: WorkOrder, territory: Territory, arrival: datetime
    ) -> None:
        if visit.late_notified_at is not None:
            return
        visit.late_notified_at = utcnow()
        await self.session.flush()
        await notices.visit_late(self.session, visit, order, territory, arrival)
        await record(
            self.session,
            self.actor,
            "visit.late_predicted",
            "visit",
            visit.id,
            after={"predicted_arrival": arrival, "window_end": visit.agreed_window.upper},
        )


__all__ = [
    "AvailabilityService",
    "DayPlanService",
    "LatenessService",
    "SlotService",
    "VisitService",
    "visit_schema",
]
