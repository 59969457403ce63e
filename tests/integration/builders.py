"""Builds isolated test data directly in the database, and tokens for its people."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.auth.passwords import hash_password
from service.auth.tokens import issue_access_token
from service.common.actor import Actor, Role
from service.db.models import (
    Absence,
    AuthSession,
    Customer,
    Shift,
    Site,
    Technician,
    Territory,
    User,
    Visit,
    WorkOrder,
)
from service.settings import Settings

_cells = itertools.count()
PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)


def next_cell() -> tuple[float, float]:
    """South-west corner of a fresh 1x1 degree square no other test territory uses."""
    n = next(_cells)
    return -170.0 + (n % 300) * 1.1, -60.0 + (n // 300) * 1.1


def square_ewkt(lon: float, lat: float, size: float = 1.0) -> str:
    """A square MultiPolygon."""
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    ring = ", ".join(f"{x} {y}" for x, y in [*corners, corners[0]])
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


async def session_token(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, actor: Actor
) -> tuple[Actor, str]:
    """A server-side session for the actor's user and an access token naming it."""
    session_id = uuid.uuid4()
    async with sessionmaker() as session:
        session.add(AuthSession(id=session_id, user_id=actor.user_id, device_id=actor.device))
        await session.commit()
    actor = replace(actor, session=session_id)
    return actor, issue_access_token(actor, settings.auth, datetime.now(UTC))


async def admin_token(settings: Settings) -> str:
    """An access token of a new admin user, for callers without a builder."""
    from service.db.engine import make_engine, make_sessionmaker

    engine = make_engine(settings.database)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:
            user = User(
                username=f"admin{uuid.uuid4().hex[:12]}",
                password_hash=_PASSWORD_HASH,
                role=Role.ADMIN.value,
                full_name="Администратор",
            )
            session.add(user)
            await session.commit()
        admin = Actor(user_id=user.id, role=Role.ADMIN, territory_ids=frozenset())
        return (await session_token(sessionmaker, settings, admin))[1]
    finally:
        await engine.dispose()


@dataclass
class Person:
    """A user with a ready access token."""

    user: User
    actor: Actor
    token: str
    technician: Technician | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Area:
    """A territory with a customer, a site and a point inside it."""

    territory: Territory
    origin: tuple[float, float]
    customer: Customer
    site: Site

    def point(self, dx: float = 0.5, dy: float = 0.5) -> dict[str, float]:
        """A location inside the territory."""
        return {"lat": self.origin[1] + dy, "lon": self.origin[0] + dx}


@dataclass
class Builder:
    """Creates rows in committed transactions so the app sees them."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    created: list[Any] = field(default_factory=list)

    async def area(self, time_zone: str = "Asia/Almaty") -> Area:
        """A new territory with one customer and one site."""
        lon, lat = next_cell()
        async with self.sessionmaker() as session:
            territory = Territory(
                code=f"T{uuid.uuid4().hex[:8].upper()}",
                name="Тестовая территория",
                time_zone=time_zone,
                area=square_ewkt(lon, lat),
            )
            session.add(territory)
            await session.flush()
            customer = Customer(
                territory_id=territory.id,
                full_name="Нұрланова Әлия",
                phones=["+77011234567"],
                preferred_language="kk",
            )
            session.add(customer)
            await session.flush()
            site = Site(
                customer_id=customer.id,
                territory_id=territory.id,
                address="г. Алматы, пр. Абая, д. 10, кв. 5",
                location=f"SRID=4326;POINT({lon + 0.5} {lat + 0.5})",
            )
            session.add(site)
            await session.commit()
        return Area(territory=territory, origin=(lon, lat), customer=customer, site=site)

    async def person(self, role: Role, *territories: Territory, active: bool = True) -> Person:
        """A staff user of the given territories, or a technician working in them."""
        async with self.sessionmaker() as session:
            user = User(
                username=f"u{uuid.uuid4().hex[:12]}",
                password_hash=_PASSWORD_HASH,
                role=role.value,
                full_name="Тест Тестов",
                is_active=active,
            )
            if role is not Role.TECHNICIAN:
                user.territories = [await session.merge(t) for t in territories]
            session.add(user)
            await session.flush()
            technician = None
            if role is Role.TECHNICIAN:
                first = territories[0]
                technician = Technician(
                    user_id=user.id,
                    full_name="Серікбаев Қанат",
                    personnel_no=uuid.uuid4().hex[:10].upper(),
                    phone="+77019876543",
                    skills=["installation", "repair"],
                    home_base=await session.scalar(
                        select(func.ST_AsEWKT(func.ST_Centroid(Territory.area))).where(
                            Territory.id == first.id
                        )
                    ),
                    territories=[await session.merge(t) for t in territories],
                    active=active,
                )
                session.add(technician)
            await session.commit()
        actor = Actor(
            user_id=user.id,
            role=role,
            territory_ids=frozenset(t.id for t in territories),
            technician_id=technician.id if technician else None,
        )
        actor, token = await session_token(self.sessionmaker, self.settings, actor)
        return Person(user=user, actor=actor, token=token, technician=technician)

    async def week(
        self,
        technician: Technician,
        time_zone: str = "Asia/Almaty",
        shifts: list[tuple[int, time, time]] | None = None,
        capacity: int = 6,
    ) -> None:
        """Give a technician weekly shifts (default every day 09:00-18:00) in a time zone."""
        async with self.sessionmaker() as session:
            for weekday, starts, ends in shifts or [(d, time(9), time(18)) for d in range(7)]:
                session.add(
                    Shift(technician_id=technician.id, weekday=weekday, starts=starts, ends=ends)
                )
            row = await session.get_one(Technician, technician.id)
            row.time_zone = time_zone
            row.daily_capacity = capacity
            await session.commit()

    async def technician_at(
        self, area: Area, dx: float, dy: float, skills: list[str] | None = None
    ) -> Person:
        """A technician of the area's territory whose home base is at origin + (dx, dy) degrees."""
        person = await self.person(Role.TECHNICIAN, area.territory)
        assert person.technician is not None
        async with self.sessionmaker() as session:
            row = await session.get_one(Technician, person.technician.id)
            row.home_base = f"SRID=4326;POINT({area.origin[0] + dx} {area.origin[1] + dy})"
            if skills is not None:
                row.skills = skills
            await session.commit()
        await self.week(person.technician, time_zone=area.territory.time_zone)
        return person

    async def order(self, area: Area, **fields: Any) -> WorkOrder:
        """A work order at the area's site."""
        async with self.sessionmaker() as session:
            order = WorkOrder(
                number=f"WO-2026-T{uuid.uuid4().hex[:10]}",
                type=fields.pop("type", "repair"),
                status=fields.pop("status", "new"),
                description=fields.pop("description", "Нет доступа в интернет"),
                requested_services=[],
                required_skills=["repair"],
                equipment=[],
                contact_phones=["+77011234567"],
                customer_id=area.customer.id,
                site_id=area.site.id,
                territory_id=area.territory.id,
                **fields,
            )
            session.add(order)
            await session.commit()
        return order

    async def visit(
        self,
        order: WorkOrder,
        technician: Technician,
        start: datetime | None = None,
        hours: float = 2,
        status: str = "planned",
    ) -> Visit:
        """A visit of a technician for an order."""
        start = start or datetime.now(UTC) + timedelta(days=1)
        async with self.sessionmaker() as session:
            visit = Visit(
                work_order_id=order.id,
                technician_id=technician.id,
                agreed_window=Range(start, start + timedelta(hours=hours), bounds="[)"),
                status=status,
            )
            session.add(visit)
            await session.commit()
        return visit

    async def absence(self, technician: Technician, days_ahead: int = 30) -> Absence:
        """A whole-day absence some days ahead."""
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start += timedelta(days=days_ahead)
        async with self.sessionmaker() as session:
            absence = Absence(
                technician_id=technician.id,
                period=Range(start, start + timedelta(days=1), bounds="[)"),
                kind="day_off",
            )
            session.add(absence)
            await session.commit()
        return absence

    async def count(self, model: Any, *where: Any) -> int:
        """Rows of a model (matching conditions)."""
        async with self.sessionmaker() as session:
            return int(
                await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
            )
