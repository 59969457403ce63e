"""Who am I: the caller's identity, role and scope, as a client needs it after login."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor
from service.common.i18n import Language, pick_language
from service.db.models import Technician, Territory, User
from service.errors import Unauthorized


class TerritoryRef(msgspec.Struct):
    """A territory the caller works in."""

    id: uuid.UUID
    code: str
    name: str
    time_zone: str


class Me(msgspec.Struct):
    """The caller: user, role, territories, and their technician record when they are one."""

    user_id: uuid.UUID
    username: str
    full_name: str
    role: str
    # Admins see every territory; this lists the ones they are assigned to.
    territories: list[TerritoryRef]
    # The language the API's texts use for this caller (from Accept-Language, else ru).
    language: Language
    technician_id: uuid.UUID | None = None
    personnel_no: str | None = None


class MeService:
    """Reads the caller's own record; nobody else's."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def me(self, accept_language: str | None) -> Me:
        """The caller as stored now (a deactivated user's token no longer answers)."""
        user = await self.session.get(User, self.actor.user_id)
        if user is None or not user.is_active:
            raise Unauthorized("This account no longer exists")
        territories = (
            await self.session.scalars(
                select(Territory)
                .where(Territory.id.in_(self.actor.territory_ids))
                .order_by(Territory.code)
            )
        ).all()
        technician = (
            await self.session.get(Technician, self.actor.technician_id)
            if self.actor.technician_id is not None
            else None
        )
        return Me(
            user_id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=self.actor.role.value,
            territories=[
                TerritoryRef(id=t.id, code=t.code, name=t.name, time_zone=t.time_zone)
                for t in territories
            ],
            language=pick_language(accept_language=accept_language),
            technician_id=technician.id if technician else None,
            personnel_no=technician.personnel_no if technician else None,
        )
