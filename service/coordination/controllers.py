"""Coordination endpoints: the overdue board, KPIs, clocks, SLA policies and calendars."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import (
    CurrentActor,
    DbSession,
    OldTechnicianFilter,
    OldTerritoryFilter,
    PageCursor,
    PageLimit,
    TechnicianFilter,
    TerritoryFilter,
    renamed_query,
)
from service.coordination import schemas
from service.coordination.board import BoardFilters, OverdueBoard
from service.coordination.escalations import EscalationService
from service.coordination.kpis import KpiQuery, KpiService, kpi_period
from service.coordination.rating_controllers import FollowUpController, RatingPageController
from service.coordination.services import (
    CalendarService,
    ClockService,
    PolicyService,
    ProfileService,
    policy_schema,
)
from service.db.base import utcnow
from service.orders.schemas import Priority, WorkType

READERS = require_roles(*STAFF)
ADMIN = require_roles()
CSV = "text/csv"


@dataclass
class _CsvOperation(Operation):
    """The board's 200 response is JSON or, on request, CSV: document both media types."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content[CSV] = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, description="UTF-8 CSV with a BOM")
            )


def _wants_csv(request: Request[Any, Any, Any], format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    accept = request.headers.get("accept", "")
    return CSV in accept and "application/json" not in accept


class CoordinationController(Controller):
    """Overdue board, KPIs and SLA clocks for coordinators."""

    path = "/api/v1/coordination"
    tags = ["coordination"]

    @get(
        "/overdue",
        operation_id="ListOverdueWorkOrders",
        guards=[READERS],
        operation_class=_CsvOperation,
        responses={
            200: ResponseSpec(
                schemas.OverduePage,
                description="JSON page, or the whole filtered board as CSV (text/csv, UTF-8 "
                "with BOM) with ?format=csv or Accept: text/csv",
                generate_examples=False,
            )
        },
    )
    async def overdue(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        actor: CurrentActor,
        territory_id: TerritoryFilter = None,
        type: FromQuery[WorkType | None] = None,
        technician_id: TechnicianFilter = None,
        priority: FromQuery[Priority | None] = None,
        bucket: Annotated[
            list[schemas.Bucket] | None, QueryParameter(description="Any of these buckets")
        ] = None,
        format_: Annotated[
            Literal["json", "csv"] | None, QueryParameter(name="format", description="csv")
        ] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
        territory: OldTerritoryFilter = None,
        technician: OldTechnicianFilter = None,
    ) -> Response[Any]:
        """Open orders past or near their control deadline, most overdue first."""
        filters = BoardFilters(
            territory_id=renamed_query(territory_id, territory, "territory"),
            type=type,
            technician_id=renamed_query(technician_id, technician, "technician"),
            priority=priority,
            buckets=tuple(dict.fromkeys(bucket or ())),
        )
        board = OverdueBoard(db_session, actor)
        if _wants_csv(request, format_):
            now = utcnow()
            body, truncated = await board.csv(filters, now)
            name = f"overdue-{now.strftime('%Y%m%d-%H%M')}.csv"
            return Response(
                body,
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "X-Truncated": "true" if truncated else "false",
                },
            )
        return Response(await board.page(filters, cursor, limit))

    @get("/kpis", operation_id="GetKpis", guards=[READERS])
    async def kpis(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        from_: Annotated[
            datetime | None,
            QueryParameter(name="from", description="RFC 3339; default 30 days before `to`"),
        ] = None,
        to: Annotated[
            datetime | None, QueryParameter(description="RFC 3339, exclusive; default now")
        ] = None,
        territory_id: TerritoryFilter = None,
        technician_id: TechnicianFilter = None,
        territory: OldTerritoryFilter = None,
        technician: OldTechnicianFilter = None,
    ) -> schemas.Kpis:
        """Quality figures over a period for the caller's territories."""
        start, end = kpi_period(from_, to, utcnow())
        return await KpiService(db_session, actor).compute(
            KpiQuery(
                start=start,
                end=end,
                territory_id=renamed_query(territory_id, territory, "territory"),
                technician_id=renamed_query(technician_id, technician, "technician"),
            )
        )

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


class EscalationController(Controller):
    """Escalations of SLA clocks and their acknowledgement with a comment."""

    path = "/api/v1/coordination/escalations"
    tags = ["coordination"]

    @get("/", operation_id="ListEscalations", guards=[READERS])
    async def list_escalations(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        status: Annotated[
            schemas.EscalationStatus,
            QueryParameter(description="pending (default), acknowledged or all"),
        ] = "pending",
        territory_id: TerritoryFilter = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
        territory: OldTerritoryFilter = None,
    ) -> schemas.EscalationPage:
        """Escalations of the caller's territories: pending oldest first, others newest first."""
        return await EscalationService(db_session, actor).page(
            status,
            territory_id=renamed_query(territory_id, territory, "territory"),
            cursor=cursor,
            limit=limit,
        )

    @post(
        "/{escalation_id:uuid}/acknowledge",
        operation_id="AcknowledgeEscalation",
        guards=[READERS],
        status_code=200,
    )
    async def acknowledge(
        self,
        escalation_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.EscalationAck],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Escalation:
        """Acknowledge an escalation with a comment saying what was done."""
        return await EscalationService(db_session, actor).acknowledge(escalation_id, data.comment)


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
    CoordinationController,
    EscalationController,
    FollowUpController,
    RatingPageController,
    SlaPolicyController,
    CalendarController,
    TerritoryProfileController,
]
