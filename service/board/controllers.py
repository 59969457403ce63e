"""Board endpoints: the overdue board (JSON or CSV) and the quality figures (KPIs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromQuery, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.board import schemas
from service.board.kpis import KpiQuery, KpiService, kpi_period
from service.board.overdue import BoardFilters, OverdueBoard
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
from service.db.base import utcnow
from service.db.engine import READ_ONLY
from service.db.models.work_orders import Priority, WorkType
from service.db.standby import Standby

READERS = require_roles(*STAFF)
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


class BoardController(Controller):
    """Overdue board and KPIs for coordinators."""

    path = "/api/v1/coordination"
    tags = ["coordination"]

    @get(
        "/overdue",
        operation_id="ListOverdueWorkOrders",
        guards=[READERS],
        # Two reads (a page and the counts), each a statement of its own: no BEGIN/COMMIT.
        opt={READ_ONLY: True},
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
        standby: Standby,
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
        return await KpiService(db_session, actor, standby).compute(
            KpiQuery(
                start=start,
                end=end,
                territory_id=renamed_query(territory_id, territory, "territory"),
                technician_id=renamed_query(technician_id, technician, "technician"),
            )
        )


CONTROLLERS = [BoardController]
