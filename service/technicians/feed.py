"""The change feed technicians' phones pull (written in the transaction of the change)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import TechnicianChange


async def visit_changed(
    session: AsyncSession, technician_id: uuid.UUID, visit_id: uuid.UUID, kind: str
) -> None:
    """A technician must see a visit again (assigned, rescheduled, cancelled, taken away)."""
    session.add(TechnicianChange(technician_id=technician_id, visit_id=visit_id, kind=kind))
    await session.flush()


async def broadcast(session: AsyncSession, kind: str) -> None:
    """Every technician must refresh something shared (e.g. a new checklist version)."""
    session.add(TechnicianChange(technician_id=None, visit_id=None, kind=kind))
    await session.flush()
