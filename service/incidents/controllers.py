"""Incidents for staff: the list, one incident, and its acknowledgement with a comment."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.common.params import CurrentActor, DbSession, TerritoryPage
from service.incidents import schemas
from service.incidents.services import IncidentService

# Supervisors receive incidents; coordinators and dispatchers of the territory see them too.
INCIDENT_STAFF = require_roles(*STAFF)


class IncidentController(Controller):
    """Incidents raised by visit outcomes (a safety exit), scoped to the caller's territories."""

    path = "/api/v1/incidents"
    tags = ["incidents"]

    @get("/", operation_id="ListIncidents", guards=[INCIDENT_STAFF])
    async def list_incidents(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        territory_page: TerritoryPage,
        status: Annotated[
            schemas.IncidentStatus,
            QueryParameter(description="all (default), pending or acknowledged"),
        ] = "all",
    ) -> schemas.IncidentPage:
        """Incidents of the caller's territories, newest first."""
        return await IncidentService(db_session, actor).page(status, territory_page)

    @get("/{incident_id:uuid}", operation_id="GetIncident", guards=[INCIDENT_STAFF])
    async def get_incident(
        self, incident_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.Incident:
        """One incident of the caller's territories."""
        return await IncidentService(db_session, actor).get(incident_id)

    @post(
        "/{incident_id:uuid}/acknowledge",
        operation_id="AcknowledgeIncident",
        guards=[INCIDENT_STAFF],
        status_code=200,
    )
    async def acknowledge(
        self,
        incident_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.IncidentAck],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.Incident:
        """Acknowledge an incident with a comment saying what was done."""
        return await IncidentService(db_session, actor).acknowledge(incident_id, data.comment)
