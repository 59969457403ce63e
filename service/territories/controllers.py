"""Territory endpoints."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from service.auth.guards import STAFF, require_roles
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import CurrentActor, DbSession, PageCursor, PageLimit
from service.territories.schemas import Territory, TerritoryCreate, TerritoryPage, TerritoryUpdate
from service.territories.services import TerritoryService


class TerritoryController(Controller):
    """Service areas."""

    path = "/api/v1/territories"
    tags = ["territories"]

    @get("/", operation_id="ListTerritories", guards=[require_roles(*STAFF)])
    async def list_territories(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> TerritoryPage:
        """List the territories in the caller's scope."""
        return await TerritoryService(db_session, actor).page(cursor, limit)

    @post("/", operation_id="CreateTerritory", guards=[require_roles()])
    async def create_territory(
        self, data: JSONBody[TerritoryCreate], db_session: DbSession, actor: CurrentActor
    ) -> Territory:
        """Create a territory (admin)."""
        return await TerritoryService(db_session, actor).create(data)

    @get("/{territory_id:uuid}", operation_id="GetTerritory", guards=[require_roles(*STAFF)])
    async def get_territory(
        self, territory_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> Territory:
        """Get one territory."""
        return await TerritoryService(db_session, actor).get(territory_id)

    @patch("/{territory_id:uuid}", operation_id="UpdateTerritory", guards=[require_roles()])
    async def update_territory(
        self,
        territory_id: FromPath[uuid.UUID],
        data: JSONBody[TerritoryUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> Territory:
        """Change a territory (admin)."""
        return await TerritoryService(db_session, actor).update(territory_id, data)

    @delete("/{territory_id:uuid}", operation_id="DeleteTerritory", guards=[require_roles()])
    async def delete_territory(
        self, territory_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> None:
        """Delete an unused territory (admin)."""
        await TerritoryService(db_session, actor).delete(territory_id)
