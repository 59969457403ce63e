"""Arranging coordination data directly in the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from service.db.models import (
    AuditEntry,
    BusinessCalendar,
    Holiday,
    SlaPolicy,
    TerritorySlaProfile,
    WorkOrderEvent,
)
from tests.integration.builders import Builder


async def use_policy(
    build: Builder,
    *,
    work_type: str = "repair",
    priority: str = "normal",
    segment: str = "b2c",
    area_kind: str = "urban",
    response: int = 60,
    arrival: int = 600,
    resolution: int = 1440,
    measure: str = "calendar",
    warning_ratio: float = 0.8,
) -> SlaPolicy:
    """Replace the fully specific policy for a key (it beats every seeded default)."""
    async with build.sessionmaker() as session:
        await session.execute(
            delete(SlaPolicy).where(
                SlaPolicy.work_type == work_type,
                SlaPolicy.priority == priority,
                SlaPolicy.segment == segment,
                SlaPolicy.area_kind == area_kind,
            )
        )
        policy = SlaPolicy(
            name=f"test {work_type}/{priority}/{segment}/{area_kind}",
            work_type=work_type,
            priority=priority,
            segment=segment,
            area_kind=area_kind,
            response_minutes=response,
            arrival_minutes=arrival,
            resolution_minutes=resolution,
            measure=measure,
            warning_ratio=warning_ratio,
        )
        session.add(policy)
        await session.commit()
    return policy


async def use_calendar(
    build: Builder,
    territory_id: uuid.UUID,
    hours: list[dict[str, Any]],
    holidays: Sequence[tuple[str, str]] = (),
    area_kind: str = "urban",
) -> BusinessCalendar:
    """A fresh calendar (no zones) named by the territory's profile."""
    async with build.sessionmaker() as session:
        calendar = BusinessCalendar(
            code=f"T{uuid.uuid4().hex[:10].upper()}",
            name="test calendar",
            country="KZ",
            zones=[],
            hours=hours,
        )
        session.add(calendar)
        await session.flush()
        for day, kind in holidays:
            session.add(
                Holiday(
                    calendar_id=calendar.id,
                    day=datetime.fromisoformat(day).date(),
                    name="test",
                    kind=kind,
                    shorten_minutes=60 if kind == "short_day" else 0,
                )
            )
        profile = await session.get(TerritorySlaProfile, territory_id)
        if profile is None:
            profile = TerritorySlaProfile(territory_id=territory_id)
            session.add(profile)
        profile.calendar_id = calendar.id
        profile.area_kind = area_kind
        await session.commit()
    return calendar


async def add_event(
    build: Builder,
    order_id: uuid.UUID,
    kind: str,
    at: datetime,
    *,
    actor: Any = None,
    visit_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Log an event without recomputing clocks (board fixtures keep their deadlines)."""
    async with build.sessionmaker() as session:
        session.add(
            WorkOrderEvent(
                work_order_id=order_id,
                visit_id=visit_id,
                kind=kind,
                occurred_at=at,
                actor_user_id=actor.user_id if actor else None,
                actor_role=actor.role.value if actor else None,
                data=data or {},
            )
        )
        await session.commit()


async def counts(build: Builder) -> dict[str, int]:
    """Rows of the configuration tables and of the audit log (to prove nothing was written)."""
    async with build.sessionmaker() as session:
        result = {}
        for name, model in (
            ("policies", SlaPolicy),
            ("calendars", BusinessCalendar),
            ("holidays", Holiday),
            ("profiles", TerritorySlaProfile),
            ("audit", AuditEntry),
        ):
            result[name] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        return result
