"""SLA endpoints: a work order's clocks, SLA policies, business calendars, territory profiles."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.common.params import CurrentActor, DbSession
from service.sla import schemas
from service.sla.services import (
    CalendarService,
    ClockService,
    PolicyService,
    ProfileService,
    policy_schema,
)

READERS = require_roles(*STAFF)
ADMIN = require_roles()


class ClockController(Controller):
    """A work order's SLA clocks with their explanation."""

    path = "/api/v1/coordination"
    tags = ["coordination"]

    @get(
        "/work-orders/{order_id:uuid}/clocks",
        operation_id="GetWorkOrderClocks",
        guards=[READERS],
    )
    async def clocks(
        self, order_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.WorkOrderClocks:
        """A work order's SLA clocks recomputed from its events, with their explanation."""
        return await ClockService(db_session, actor).explain(order_id)


class SlaPolicyController(Controller):
    """SLA policies (admins write; staff read)."""

    path = "/api/v1/coordination/sla-policies"
    tags = ["coordination"]

    @get("/", operation_id="ListSlaPolicies", guards=[READERS])
    async def list_policies(
        self, db_session: DbSession, actor: CurrentActor
    ) -> schemas.SlaPolicyList:
        """Every SLA policy, most specific first."""
        return await PolicyService(db_session, actor).all()

    @post("/", operation_id="CreateSlaPolicy", guards=[ADMIN])
    async def create_policy(
        self, data: JSONBody[schemas.SlaPolicyCreate], db_session: DbSession, actor: CurrentActor
    ) -> schemas.SlaPolicy:
        """Add an SLA policy (admin)."""
        return policy_schema(await PolicyService(db_session, actor).create(data))

    @get("/{policy_id:uuid}", operation_id="GetSlaPolicy", guards=[READERS])
    async def get_policy(
        self, policy_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.SlaPolicy:
        """Get one SLA policy."""
        return policy_schema(await PolicyService(db_session, actor).get(policy_id))

    @patch("/{policy_id:uuid}", operation_id="UpdateSlaPolicy", guards=[ADMIN])
    async def update_policy(
        self,
        policy_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.SlaPolicyUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.SlaPolicy:
        """Change an SLA policy (admin); open clocks are recomputed."""
        return policy_schema(await PolicyService(db_session, actor).update(policy_id, data))

    @delete("/{policy_id:uuid}", operation_id="DeleteSlaPolicy", guards=[ADMIN])
    async def delete_policy(
        self, policy_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> None:
        """Remove an SLA policy (admin)."""
        await PolicyService(db_session, actor).delete(policy_id)


class CalendarController(Controller):
    """Business calendars and holidays (admins write; staff read)."""

    path = "/api/v1/coordination/calendars"
    tags = ["coordination"]

    @get("/", operation_id="ListBusinessCalendars", guards=[READERS])
    async def list_calendars(
        self, db_session: DbSession, actor: CurrentActor
    ) -> schemas.BusinessCalendarList:
        """Every business calendar."""
        return await CalendarService(db_session, actor).all()

    @post("/", operation_id="CreateBusinessCalendar", guards=[ADMIN])
    async def create_calendar(
        self,
        data: JSONBody[schemas.BusinessCalendarCreate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.BusinessCalendar:
        """Add a calendar with hours, zones and holidays (admin)."""
        return await CalendarService(db_session, actor).create(data)

    @get("/{calendar_id:uuid}", operation_id="GetBusinessCalendar", guards=[READERS])
    async def get_calendar(
        self, calendar_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.BusinessCalendar:
        """Get one calendar."""
        return await CalendarService(db_session, actor).get(calendar_id)

    @patch("/{calendar_id:uuid}", operation_id="UpdateBusinessCalendar", guards=[ADMIN])
    async def update_calendar(
        self,
        calendar_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.BusinessCalendarUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.BusinessCalendar:
        """Change a calendar's name, hours or zones (admin)."""
        return await CalendarService(db_session, actor).update(calendar_id, data)

    @delete("/{calendar_id:uuid}", operation_id="DeleteBusinessCalendar", guards=[ADMIN])
    async def delete_calendar(
        self, calendar_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> None:
        """Remove a calendar no territory names (admin)."""
        await CalendarService(db_session, actor).delete(calendar_id)

    @get("/{calendar_id:uuid}/holidays", operation_id="ListHolidays", guards=[READERS])
    async def list_holidays(
        self,
        calendar_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
    ) -> schemas.HolidayList:
        """A calendar's holidays, shortened days and transferred working days."""
        return await CalendarService(db_session, actor).holidays(calendar_id, year)

    @post("/{calendar_id:uuid}/holidays", operation_id="AddHolidays", guards=[ADMIN])
    async def add_holidays(
        self,
        calendar_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.HolidayBatch],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.HolidayList:
        """Add dated exceptions (admin); overlapping dates are refused, nothing is added."""
        return await CalendarService(db_session, actor).add_holidays(calendar_id, data)

    @put(
        "/{calendar_id:uuid}/holidays/{year:int}",
        operation_id="ReplaceHolidayYear",
        guards=[ADMIN],
    )
    async def replace_year(
        self,
        calendar_id: FromPath[uuid.UUID],
        year: FromPath[int],
        data: JSONBody[schemas.HolidayBatch],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.HolidayList:
        """Replace one year's exceptions (admin)."""
        return await CalendarService(db_session, actor).replace_year(calendar_id, year, data)

    @delete("/{calendar_id:uuid}/holidays/{day:date}", operation_id="RemoveHoliday", guards=[ADMIN])
    async def remove_holiday(
        self,
        calendar_id: FromPath[uuid.UUID],
        day: FromPath[date],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> None:
        """Remove the exception on one date (admin)."""
        await CalendarService(db_session, actor).remove_holiday(calendar_id, day)


class TerritoryProfileController(Controller):
    """Which calendar and area kind a territory's clocks use."""

    path = "/api/v1/coordination/territories/{territory_id:uuid}/profile"
    tags = ["coordination"]

    @get("/", operation_id="GetTerritorySlaProfile", guards=[READERS])
    async def get_profile(
        self, territory_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.TerritoryProfile:
        """A territory's calendar (explicit or by zone) and area kind."""
        return await ProfileService(db_session, actor).get(territory_id)

    @put("/", operation_id="SetTerritorySlaProfile", guards=[ADMIN])
    async def put_profile(
        self,
        territory_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TerritoryProfileUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.TerritoryProfile:
        """Set a territory's calendar and area kind (admin)."""
        return await ProfileService(db_session, actor).put(territory_id, data)


CONTROLLERS = [
    ClockController,
    SlaPolicyController,
    CalendarController,
    TerritoryProfileController,
]
