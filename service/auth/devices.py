"""Registered phones: listing, revocation, and the check every mobile request passes."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import Select, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.auth.sessions import revoke_sessions
from service.common.actor import Actor, Role
from service.db.base import utcnow
from service.db.models import AuthSession, Device, RefreshToken, Technician
from service.db.models.technicians import technician_territories
from service.errors import Forbidden, NotFound, Unauthorized


class DeviceView(msgspec.Struct):
    """A registered phone."""

    id: uuid.UUID
    user_id: uuid.UUID
    device_id: str
    app_version: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


class DeviceRevoke(msgspec.Struct, forbid_unknown_fields=True):
    """Why the device is revoked (lost, stolen, employee left)."""

    reason: str = msgspec.field(default="")


def device_view(device: Device) -> DeviceView:
    """Model to API schema."""
    return DeviceView(
        id=device.id,
        user_id=device.user_id,
        device_id=device.device_id,
        app_version=device.app_version,
        first_seen_at=device.first_seen_at,
        last_seen_at=device.last_seen_at,
        revoked_at=device.revoked_at,
    )


class DeviceService:
    """Devices of technicians in the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _scoped(self) -> Select[Device]:
        stmt = select(Device)
        if not self.actor.is_admin:
            stmt = stmt.where(
                exists().where(
                    Technician.user_id == Device.user_id,
                    technician_territories.c.technician_id == Technician.id,
                    technician_territories.c.territory_id.in_(self.actor.territory_ids or [None]),
                )
            )
        return stmt

    async def page(self, technician_id: uuid.UUID | None) -> list[Device]:
        """Devices, most recently seen first."""
        stmt = self._scoped()
        if technician_id is not None:
            stmt = stmt.where(
                Device.user_id
                == select(Technician.user_id)
                .where(Technician.id == technician_id)
                .scalar_subquery()
            )
        return list((await self.session.scalars(stmt.order_by(Device.last_seen_at.desc()))).all())

    async def revoke(self, device_id: uuid.UUID, reason: str) -> Device:
        """Revoke a device and every session bound to it."""
        device = await self.session.scalar(self._scoped().where(Device.id == device_id))
        if device is None:
            raise NotFound("Device not found")
        now = utcnow()
        if device.revoked_at is None:
            device.revoked_at = now
            device.revoked_reason = reason or None
            await self.session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.user_id == device.user_id,
                    RefreshToken.device_id == device.device_id,
                    RefreshToken.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            await revoke_sessions(self.session, AuthSession.device_id == device.id, now)
            await self.session.flush()
            await record(
                self.session,
                self.actor,
                "device.revoked",
                "device",
                device.id,
                after={"reason": reason},
            )
        return device


def require_mobile_actor(actor: Actor) -> None:
    """Mobile calls need a technician token bound to a device.

    That the device is not revoked was already checked with the token's session.
    """
    if actor.role is not Role.TECHNICIAN:
        raise Forbidden("The mobile API is for technicians")
    if actor.device is None:
        raise Unauthorized("Log in from the app with a device id")
