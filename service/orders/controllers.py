"""Work-order endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from service.auth.guards import EVERYONE, require_roles
from service.common.actor import Role
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import CurrentActor, DbSession, PageCursor, PageLimit
from service.db.models.work_orders import WorkType
from service.db.reads import RAW_READS, Reads
from service.orders.schemas import (
    StatusName,
    WorkOrder,
    WorkOrderCancel,
    WorkOrderCreate,
    WorkOrderPage,
    WorkOrderUpdate,
)
from service.orders.services import (
    WorkOrderFilters,
    WorkOrderService,
    etag_for,
    order_schema,
    read_page,
)

ETAG_HEADER = {"ETag": "The version to send back in If-Match"}


def _with_etag(order: Any, status_code: int = 200) -> Response[WorkOrder]:
    return Response(order_schema(order), status_code=status_code, headers={"ETag": etag_for(order)})


class WorkOrderController(Controller):
    """Work orders (наряды)."""

    path = "/api/v1/work-orders"
    tags = ["work-orders"]

    @get(
        "/",
        operation_id="ListWorkOrders",
        guards=[require_roles(*EVERYONE)],
        opt={RAW_READS: True},
    )
    async def list_work_orders(
        self,
        reads: Reads,
        status: Annotated[
            list[StatusName] | None, QueryParameter(description="Any of these statuses")
        ] = None,
        type: FromQuery[WorkType | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        technician_id: FromQuery[uuid.UUID | None] = None,
        deadline_before: Annotated[
            datetime | None, QueryParameter(description="RFC 3339 with offset")
        ] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=200, description="Number or words")
        ] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> WorkOrderPage:
        """List work orders in the caller's scope, newest first."""
        filters = WorkOrderFilters(
            status=tuple(status or ()),
            type=type,
            territory_id=territory_id,
            technician_id=technician_id,
            deadline_before=deadline_before,
            q=q,
        )
        return await read_page(
            await reads.connection(), reads.checked_actor, filters, cursor, limit
        )

    @post(
        "/",
        operation_id="CreateWorkOrder",
        guards=[require_roles(Role.DISPATCHER)],
        responses={201: ResponseSpec(WorkOrder, description="Created", generate_examples=False)},
    )
    async def create_work_order(
        self, data: JSONBody[WorkOrderCreate], db_session: DbSession, actor: CurrentActor
    ) -> Response[WorkOrder]:
        """Open a work order."""
        order = await WorkOrderService(db_session, actor).create(data)
        return _with_etag(order, status_code=201)

    @get("/{order_id:uuid}", operation_id="GetWorkOrder", guards=[require_roles(*EVERYONE)])
    async def get_work_order(
        self, order_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> Response[WorkOrder]:
        """Get one work order with its ETag."""
        return _with_etag(await WorkOrderService(db_session, actor).get(order_id))

    @patch(
        "/{order_id:uuid}",
        operation_id="UpdateWorkOrder",
        guards=[require_roles(Role.DISPATCHER, Role.COORDINATOR)],
    )
    async def update_work_order(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[WorkOrderUpdate],
        db_session: DbSession,
        actor: CurrentActor,
        if_match: Annotated[
            str | None, HeaderParameter(name="If-Match", description="ETag from the last read")
        ] = None,
    ) -> Response[WorkOrder]:
        """Change a work order; requires If-Match (412 when stale, 428 when missing)."""
        order = await WorkOrderService(db_session, actor).update(order_id, data, if_match)
        return _with_etag(order)

    @post(
        "/{order_id:uuid}/cancel",
        operation_id="CancelWorkOrder",
        status_code=200,
        guards=[require_roles(Role.DISPATCHER)],
    )
    async def cancel_work_order(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[WorkOrderCancel],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> Response[WorkOrder]:
        """Cancel a work order that has not started; a reason is required."""
        order = await WorkOrderService(db_session, actor).cancel(order_id, data.reason)
        return _with_etag(order)
