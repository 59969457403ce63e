"""Escalation endpoints: list a territory's escalations and acknowledge one."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.common.params import CurrentActor, DbSession, TerritoryPage
from service.escalations import schemas
from service.escalations.services import EscalationService

READERS = require_roles(*STAFF)


class EscalationController(Controller):
    """Escalations of SLA clocks and their acknowledgement with a comment."""

    path = "/api/v1/coordination/escalations"
    tags = ["coordination"]

    @get("/", operation_id="ListEscalations", guards=[READERS])
    async def list_escalations(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        territory_page: TerritoryPage,
        status: Annotated[
            schemas.EscalationStatus,
            QueryParameter(description="pending (default), acknowledged or all"),
        ] = "pending",
    ) -> schemas.EscalationPage:
        """Escalations of the caller's territories: pending oldest first, others newest first."""
        return await EscalationService(db_session, actor).page(status, territory_page)

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


CONTROLLERS = [EscalationController]
