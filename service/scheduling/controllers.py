"""Scheduling endpoints: slots, booking, visit changes, day plans, availability."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from service.auth.guards import EVERYONE, STAFF, require_roles
from service.common.actor import Role
from service.common.params import CurrentActor, DbSession
from service.scheduling import schemas
from service.scheduling.services import (
    AvailabilityService,
    DayPlanService,
    SlotService,
    VisitService,
    visit_schema,
)

DISPATCH = require_roles(Role.DISPATCHER)
PLANNERS = require_roles(Role.DISPATCHER, Role.COORDINATOR)
AVAILABILITY_WRITERS = require_roles(Role.DISPATCHER, Role.SUPERVISOR)


class OrderSchedulingController(Controller):
    """Slots and booking for one work order."""

    path = "/api/v1/work-orders/{order_id:uuid}"
    tags = ["scheduling"]

    @get("/slots", operation_id="ListSlots", guards=[PLANNERS])
    async def slots(
        self,
        order_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        from_: Annotated[
            date | None, QueryParameter(name="from", description="First local day (site's zone)")
        ] = None,
        days: Annotated[int, QueryParameter(ge=1, le=14)] = 3,
    ) -> schemas.SlotOffer:
        """Windows in which a qualified, free technician can come, candidates ranked."""
        return await SlotService(db_session, actor).offer(order_id, from_, days)

    @post("/visits", operation_id="BookVisit", guards=[PLANNERS])
    async def book(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.VisitCreate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Visit:
        """Book a visit in an agreed window (technician given, or the best candidate)."""
        return visit_schema(await VisitService(db_session, actor).book(order_id, data))

    @get("/visits", operation_id="ListOrderVisits", guards=[require_roles(*EVERYONE)])
    async def visits(
        self, order_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.VisitList:
        """Visits of a work order, oldest first."""
        visits = await VisitService(db_session, actor).for_order(order_id)
        return schemas.VisitList(items=[visit_schema(v) for v in visits])


class VisitController(Controller):
    """One visit and its changes."""

    path = "/api/v1/visits/{visit_id:uuid}"
    tags = ["scheduling"]

    @get("/", operation_id="GetVisit", guards=[require_roles(*EVERYONE)])
    async def get_visit(
        self, visit_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.Visit:
        """Get a visit."""
        return visit_schema(await VisitService(db_session, actor).get(visit_id))

    @patch("/", operation_id="MoveVisitPlan", guards=[PLANNERS])
    async def move_plan(
        self,
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.VisitPlanUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Visit:
        """Move the internal plan inside the promised window (the window itself stays)."""
        visit = await VisitService(db_session, actor).move_plan(visit_id, data.planned_start)
        return visit_schema(visit)

    @post("/reschedule", operation_id="RescheduleVisit", status_code=200, guards=[PLANNERS])
    async def reschedule(
        self,
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.Reschedule],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Visit:
        """Move the promised window with a reason and the customer's agreement."""
        return visit_schema(await VisitService(db_session, actor).reschedule(visit_id, data))

    @post("/reassign", operation_id="ReassignVisit", status_code=200, guards=[DISPATCH])
    async def reassign(
        self,
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.Reassign],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Visit:
        """Give the visit to another technician (none = best candidate), with a reason."""
        return visit_schema(await VisitService(db_session, actor).reassign(visit_id, data))

    @post("/cancel", operation_id="CancelVisit", status_code=200, guards=[DISPATCH])
    async def cancel(
        self,
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.VisitCancel],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Visit:
        """Cancel a visit that has not started."""
        return visit_schema(await VisitService(db_session, actor).cancel(visit_id, data.reason))


class TechnicianScheduleController(Controller):
    """A technician's day plan, weekly schedule and absences."""

    path = "/api/v1/technicians/{technician_id:uuid}"
    tags = ["scheduling"]

    @get("/day", operation_id="GetTechnicianDay", guards=[require_roles(*EVERYONE)])
    async def day(
        self,
        technician_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        on: Annotated[
            date | None, QueryParameter(name="date", description="Local day (default today)")
        ] = None,
    ) -> schemas.DayPlan:
        """Visits in order with travel between them and predicted arrivals."""
        return await DayPlanService(db_session, actor).day(technician_id, on)

    @get("/schedule", operation_id="GetTechnicianSchedule", guards=[require_roles(*EVERYONE)])
    async def schedule(
        self, technician_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.WeeklySchedule:
        """Weekly shifts, time zone and daily capacity."""
        return await AvailabilityService(db_session, actor).schedule(technician_id)

    @put("/schedule", operation_id="ReplaceTechnicianSchedule", guards=[AVAILABILITY_WRITERS])
    async def replace_schedule(
        self,
        technician_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.WeeklySchedule],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.WeeklySchedule:
        """Replace the weekly schedule."""
        return await AvailabilityService(db_session, actor).replace_schedule(technician_id, data)

    @get("/absences", operation_id="ListAbsences", guards=[require_roles(*STAFF)])
    async def absences(
        self,
        technician_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        start: Annotated[datetime, QueryParameter(name="from")],
        end: Annotated[datetime, QueryParameter(name="to")],
    ) -> list[schemas.Absence]:
        """Absences overlapping [from, to)."""
        return await AvailabilityService(db_session, actor).absences(technician_id, start, end)

    @post("/absences", operation_id="AddAbsence", guards=[AVAILABILITY_WRITERS])
    async def add_absence(
        self,
        technician_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.AbsenceCreate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Absence:
        """Record a day off, vacation or sick leave."""
        return await AvailabilityService(db_session, actor).add_absence(technician_id, data)

    @delete(
        "/absences/{absence_id:uuid}", operation_id="RemoveAbsence", guards=[AVAILABILITY_WRITERS]
    )
    async def remove_absence(
        self,
        technician_id: FromPath[uuid.UUID],
        absence_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> None:
        """Delete an absence."""
        await AvailabilityService(db_session, actor).remove_absence(technician_id, absence_id)
