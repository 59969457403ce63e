"""Technician endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import AppSettings, CurrentActor, DbSession, PageCursor, PageLimit
from service.technicians.schemas import (
    Technician,
    TechnicianCreate,
    TechnicianPage,
    TechnicianUpdate,
)
from service.technicians.services import TechnicianService, technician_schema


class TechnicianController(Controller):
    """Technicians and their logins."""

    path = "/api/v1/technicians"
    tags = ["technicians"]

    @get("/", operation_id="ListTechnicians", guards=[require_roles(*STAFF)])
    async def list_technicians(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        territory_id: FromQuery[uuid.UUID | None] = None,
        skill: Annotated[str | None, QueryParameter(max_length=40)] = None,
        active: FromQuery[bool | None] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> TechnicianPage:
        """List technicians working in the caller's territories."""
        return await TechnicianService(db_session, actor, settings.auth).page(
            territory_id=territory_id, skill=skill, active=active, cursor=cursor, limit=limit
        )

    @post("/", operation_id="CreateTechnician", guards=[require_roles()])
    async def create_technician(
        self,
        data: JSONBody[TechnicianCreate],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Technician:
        """Create a technician and their login (admin)."""
        service = TechnicianService(db_session, actor, settings.auth)
        return technician_schema(await service.create(data))

    @get("/{technician_id:uuid}", operation_id="GetTechnician", guards=[require_roles(*STAFF)])
    async def get_technician(
        self,
        technician_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Technician:
        """Get one technician."""
        service = TechnicianService(db_session, actor, settings.auth)
        return technician_schema(await service.get(technician_id))

    @patch("/{technician_id:uuid}", operation_id="UpdateTechnician", guards=[require_roles()])
    async def update_technician(
        self,
        technician_id: FromPath[uuid.UUID],
        data: JSONBody[TechnicianUpdate],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Technician:
        """Change a technician (admin)."""
        service = TechnicianService(db_session, actor, settings.auth)
        return technician_schema(await service.update(technician_id, data))

    @delete("/{technician_id:uuid}", operation_id="DeactivateTechnician", guards=[require_roles()])
    async def deactivate_technician(
        self,
        technician_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> None:
        """Deactivate a technician and end their sessions (admin); records are kept."""
        await TechnicianService(db_session, actor, settings.auth).deactivate(technician_id)
