"""Technician rules: one login each, territories in the caller's scope, soft deactivation."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.audit.services import record
from service.auth.passwords import hash_password
from service.auth.services import AuthService
from service.common.actor import Actor, Role
from service.common.geo import point_ewkt, point_from_wkb
from service.common.pagination import keyset_page, split_page
from service.common.patching import changed_fields
from service.db.models import Technician, Territory, User
from service.db.models.technicians import technician_territories
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.settings import AuthSettings
from service.technicians import schemas


def technician_schema(technician: Technician) -> schemas.Technician:
    """Model to API schema (territories must be loaded)."""
    return schemas.Technician(
        id=technician.id,
        user_id=technician.user_id,
        full_name=technician.full_name,
        personnel_no=technician.personnel_no,
        phone=technician.phone,
        employment=technician.employment,
        skills=list(technician.skills),
        home_base=point_from_wkb(technician.home_base),
        territory_ids=sorted(t.id for t in technician.territories),
        active=technician.active,
        created_at=technician.created_at,
        updated_at=technician.updated_at,
    )


def _audit_view(technician: Technician) -> dict[str, object]:
    return {
        "personnel_no": technician.personnel_no,
        "employment": technician.employment,
        "skills": list(technician.skills),
        "territory_ids": sorted(str(t.id) for t in technician.territories),
        "active": technician.active,
    }


class TechnicianService:
    """Technicians whose territories overlap the caller's."""

    def __init__(self, session: AsyncSession, actor: Actor, auth: AuthSettings) -> None:
        self.session = session
        self.actor = actor
        self.auth = auth

    def _scoped(self) -> Select[Technician]:
        stmt = select(Technician).options(selectinload(Technician.territories))
        if not self.actor.is_admin:
            stmt = stmt.where(
                exists().where(
                    technician_territories.c.technician_id == Technician.id,
                    technician_territories.c.territory_id.in_(self.actor.territory_ids or [None]),
                )
            )
        return stmt

    async def page(
        self,
        *,
        territory_id: uuid.UUID | None,
        skill: str | None,
        active: bool | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.TechnicianPage:
        """Technicians, newest first, filtered by territory, skill and activity."""
        stmt = self._scoped()
        if territory_id:
            stmt = stmt.where(
                exists().where(
                    technician_territories.c.technician_id == Technician.id,
                    technician_territories.c.territory_id == territory_id,
                )
            )
        if skill:
            stmt = stmt.where(Technician.skills.contains([skill]))
        if active is not None:
            stmt = stmt.where(Technician.active.is_(active))
        rows = (await self.session.scalars(keyset_page(stmt, Technician, cursor, limit))).all()
        items, next_cursor = split_page(rows, limit, lambda t: (t.created_at, t.id))
        return schemas.TechnicianPage(
            items=[technician_schema(t) for t in items], next_cursor=next_cursor
        )

    async def get(self, technician_id: uuid.UUID) -> Technician:
        """One technician in scope, or NotFound."""
        technician = await self.session.scalar(self._scoped().where(Technician.id == technician_id))
        if technician is None:
            raise NotFound("Technician not found")
        return technician

    async def create(self, data: schemas.TechnicianCreate) -> Technician:
        """Create the technician and their login."""
        territories = await self._territories(data.territory_ids)
        if await self.session.scalar(select(exists().where(User.username == data.username))):
            raise Conflict(f"Username {data.username} is taken", code="duplicate_username")
        await self._check_personnel_no(data.personnel_no)
        user = User(
            username=data.username,
            password_hash=hash_password(data.password),
            role=Role.TECHNICIAN.value,
            full_name=data.full_name,
        )
        self.session.add(user)
        await self.session.flush()
        technician = Technician(
            user_id=user.id,
            full_name=data.full_name,
            personnel_no=data.personnel_no,
            phone=data.phone,
            employment=data.employment,
            skills=sorted(set(data.skills)),
            home_base=point_ewkt(data.home_base),
            territories=territories,
        )
        self.session.add(technician)
        await self.session.flush()
        await self.session.refresh(technician, ["home_base"])  # the database's EWKB, not our EWKT
        technician = await self.get(technician.id)
        await record(
            self.session,
            self.actor,
            "technician.created",
            "technician",
            technician.id,
            after=_audit_view(technician),
        )
        return technician

    async def update(self, technician_id: uuid.UUID, patch: schemas.TechnicianUpdate) -> Technician:
        """Change a technician; deactivation revokes their sessions."""
        technician = await self.get(technician_id)
        before = _audit_view(technician)
        changes = changed_fields(patch)
        if "personnel_no" in changes:
            await self._check_personnel_no(changes["personnel_no"], technician.id)
        if "territory_ids" in changes:
            technician.territories = await self._territories(changes.pop("territory_ids"))
        if "home_base" in changes:
            technician.home_base = point_ewkt(changes.pop("home_base"))
        if "skills" in changes:
            technician.skills = sorted(set(changes.pop("skills")))
        for name, value in changes.items():
            setattr(technician, name, value)
        if "active" in changes:
            user = await self.session.get_one(User, technician.user_id)
            user.is_active = technician.active
            if not technician.active:
                await AuthService(self.session, self.auth).revoke_user(user.id)
        await self.session.flush()
        await self.session.refresh(technician)
        technician = await self.get(technician_id)
        await record(
            self.session,
            self.actor,
            "technician.updated",
            "technician",
            technician.id,
            before=before,
            after=_audit_view(technician),
        )
        return technician

    async def deactivate(self, technician_id: uuid.UUID) -> None:
        """Technicians are never deleted (their visits stay on record); they are deactivated."""
        await self.update(technician_id, schemas.TechnicianUpdate(active=False))

    async def _check_personnel_no(
        self, personnel_no: str, technician_id: uuid.UUID | None = None
    ) -> None:
        """Personnel numbers are unique across the company, whoever may see the holder."""
        clash = exists().where(Technician.personnel_no == personnel_no)
        if technician_id is not None:
            clash = clash.where(Technician.id != technician_id)
        if await self.session.scalar(select(clash)):
            raise Conflict(
                f"Personnel number {personnel_no} is already used",
                code="duplicate_personnel_no",
            )

    async def _territories(self, territory_ids: list[uuid.UUID]) -> list[Territory]:
        wanted = set(territory_ids)
        found = (
            await self.session.scalars(select(Territory).where(Territory.id.in_(wanted)))
        ).all()
        missing = wanted - {t.id for t in found if self.actor.covers_territory(t.id)}
        if missing:
            raise ValidationFailed(
                "Unknown territories",
                errors=[
                    FieldError(field="territory_ids", message=f"unknown territory {m}")
                    for m in sorted(missing)
                ],
            )
        return list(found)
