"""The authenticated caller and the scope rules every query applies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a user is allowed to do."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    TECHNICIAN = "technician"


STAFF_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: identity, role, and the territories or technician they are scoped to."""

    user_id: uuid.UUID
    role: Role
    territory_ids: frozenset[uuid.UUID]
    technician_id: uuid.UUID | None = None
    # The registered phone a mobile session is bound to (devices.id).
    device: uuid.UUID | None = None
    # The login (auth_sessions.id, the refresh-token family) every request is checked against.
    session: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        """Admins see everything."""
        return self.role is Role.ADMIN

    def covers_territory(self, territory_id: uuid.UUID) -> bool:
        """Whether a territory-scoped object is visible to this caller."""
        return self.is_admin or territory_id in self.territory_ids

    def to_claims(self) -> dict[str, Any]:
        """Extra JWT claims that rebuild this actor without a database read."""
        return {
            "role": self.role.value,
            "terr": sorted(str(t) for t in self.territory_ids),
            "tech": str(self.technician_id) if self.technician_id else None,
            "dev": str(self.device) if self.device else None,
            "sid": str(self.session) if self.session else None,
        }

    @classmethod
    def from_claims(cls, subject: str, claims: dict[str, Any]) -> Actor:
        """Inverse of ``to_claims``; ValueError for claims of the wrong shape."""
        territories = claims.get("terr", [])
        if not isinstance(territories, list):
            raise ValueError("terr must be a list")  # a string would iterate per character
        return cls(
            user_id=_uuid(subject),
            role=Role(claims["role"]),
            territory_ids=frozenset(_uuid(t) for t in territories),
            technician_id=_uuid(claims["tech"]) if claims.get("tech") else None,
            device=_uuid(claims["dev"]) if claims.get("dev") else None,
            session=_uuid(claims["sid"]) if claims.get("sid") else None,
        )


def _uuid(value: Any) -> uuid.UUID:
    """A UUID from a claim that must be its string form."""
    if not isinstance(value, str):
        raise ValueError(f"expected a UUID string, got {type(value).__name__}")
    return uuid.UUID(value)
