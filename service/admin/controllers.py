"""Admin operations endpoints (/api/v1/admin, role admin only)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from service.admin import schemas
from service.admin.services import (
    OutboxAdminService,
    StaffUserService,
    outbox_schema,
    staff_schema,
)
from service.auth.guards import require_roles
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import AppSettings, CurrentActor, DbSession, PageCursor, PageLimit

# On each handler, not the controller: a controller's guards also reach Litestar's implicit
# OPTIONS handlers, which the authentication middleware lets through without a user.
ADMIN_ONLY = [require_roles()]


class OutboxAdminController(Controller):
    """Notifications that are stuck or given up."""

    path = "/api/v1/admin/outbox"
    tags = ["admin"]

    @get("/", operation_id="ListOutboxMessages", guards=ADMIN_ONLY)
    async def list_messages(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        status: FromQuery[schemas.OutboxListStatus] = "dead",
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> schemas.OutboxPage:
        """List dead or pending notifications, newest first (admin)."""
        return await OutboxAdminService(db_session, actor).page(status, cursor, limit)

    @post(
        "/{message_id:uuid}/retry",
        operation_id="RetryOutboxMessage",
        guards=ADMIN_ONLY,
        status_code=200,
    )
    async def retry_message(
        self, message_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.OutboxMessage:
        """Send a dead or pending notification again, now (admin; audited)."""
        return outbox_schema(await OutboxAdminService(db_session, actor).retry(message_id))

    @post(
        "/{message_id:uuid}/discard",
        operation_id="DiscardOutboxMessage",
        guards=ADMIN_ONLY,
        status_code=204,
    )
    async def discard_message(
        self, message_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> None:
        """Drop a dead or pending notification for good (admin; audited)."""
        await OutboxAdminService(db_session, actor).discard(message_id)


class StaffUserController(Controller):
    """Dispatchers, coordinators and supervisors."""

    path = "/api/v1/admin/users"
    tags = ["admin"]

    @get("/", operation_id="ListStaffUsers", guards=ADMIN_ONLY)
    async def list_users(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        role: FromQuery[schemas.StaffRole | None] = None,
        active: FromQuery[bool | None] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> schemas.StaffUserPage:
        """List staff accounts (admin)."""
        service = StaffUserService(db_session, actor, settings.auth)
        return await service.page(role, active, cursor, limit)

    @post("/", operation_id="CreateStaffUser", guards=ADMIN_ONLY)
    async def create_user(
        self,
        data: JSONBody[schemas.StaffUserCreate],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> schemas.StaffUser:
        """Create a dispatcher, coordinator or supervisor in their territories (admin)."""
        service = StaffUserService(db_session, actor, settings.auth)
        return staff_schema(await service.create(data))

    @get("/{user_id:uuid}", operation_id="GetStaffUser", guards=ADMIN_ONLY)
    async def get_user(
        self,
        user_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> schemas.StaffUser:
        """Get one staff account (admin)."""
        service = StaffUserService(db_session, actor, settings.auth)
        return staff_schema(await service.get(user_id))

    @patch("/{user_id:uuid}", operation_id="UpdateStaffUser", guards=ADMIN_ONLY)
    async def update_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.StaffUserUpdate],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> schemas.StaffUser:
        """Rename a staff account or change its territories (admin)."""
        service = StaffUserService(db_session, actor, settings.auth)
        return staff_schema(await service.update(user_id, data))

    @delete("/{user_id:uuid}", operation_id="DeactivateStaffUser", guards=ADMIN_ONLY)
    async def deactivate_user(
        self,
        user_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> None:
        """Deactivate a staff account; its sessions end at once (admin)."""
        await StaffUserService(db_session, actor, settings.auth).deactivate(user_id)
