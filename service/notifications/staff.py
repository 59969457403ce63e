"""Staff of a territory by role, and how a staff message is addressed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import User, user_territories
from service.notifications.schemas import Recipient


def staff_condition(territory_id: uuid.UUID, *roles: str) -> ColumnElement[bool]:
    """Active users of one of ``roles`` assigned to the territory (a condition on ``User``)."""
    return and_(
        User.role.in_(roles),
        User.is_active.is_(True),
        exists().where(
            user_territories.c.user_id == User.id,
            user_territories.c.territory_id == territory_id,
        ),
    )


async def staff_ids(session: AsyncSession, territory_id: uuid.UUID, role: str) -> list[uuid.UUID]:
    """Ids of the territory's active users of ``role``, in a stable order."""
    rows = await session.scalars(
        select(User.id).where(staff_condition(territory_id, role)).order_by(User.id)
    )
    return list(rows)


def desk_address(role: str, territory_code: str) -> str:
    """The gateway address of a role's desk in a territory (``coordinator:T01``)."""
    return f"{role}:{territory_code}"


def staff_recipients(
    role: str, territory_code: str, user_ids: Iterable[uuid.UUID]
) -> list[Recipient]:
    """Each user by id, or the role's desk when there is nobody, so no message goes unread."""
    users = [Recipient(kind="user", id=u, address=f"user:{u}") for u in user_ids]
    return users or [Recipient(kind="user", address=desk_address(role, territory_code))]
