"""The reads scheduling needs, each one round trip, using the spatial and range indexes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from service.scheduling.planning import Interval


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """A technician who may serve a site, with the distance from their home base."""

    id: uuid.UUID
    full_name: str
    time_zone: str
    capacity: int
    home_distance_m: float


@dataclass(frozen=True, slots=True)
class BusyRow:
    """A live visit of a candidate, with the distance of its site to the target site."""

    visit_id: uuid.UUID
    technician_id: uuid.UUID
    window: Interval
    work_type: str
    distance_m: float


# KNN over the home-base GiST index: nearest first, filtered by skills and by territories whose
# area covers the site. LIMIT keeps the cost flat however many technicians there are.
_CANDIDATES = text(
    """
    SELECT t.id, t.full_name, t.time_zone, t.daily_capacity,
           ST_Distance(t.home_base, s.location) AS distance
    FROM technicians t, sites s
    WHERE s.id = :site_id
      AND t.active
      AND t.skills @> CAST(:skills AS text[])
      AND (CAST(:only AS uuid) IS NULL OR t.id = CAST(:only AS uuid))
      AND EXISTS (
          SELECT 1 FROM technician_territories tt JOIN territories tr ON tr.id = tt.territory_id
          WHERE tt.technician_id = t.id AND ST_Covers(tr.area, s.location::geometry)
      )
    ORDER BY t.home_base <-> s.location
    LIMIT :limit
    """
)

_SHIFTS = text(
    "SELECT technician_id, weekday, starts, ends FROM technician_shifts "
    "WHERE technician_id = ANY(:ids)"
)

_ABSENCES = text(
    "SELECT technician_id, lower(period), upper(period) FROM technician_absences "
    "WHERE technician_id = ANY(:ids) AND period && tstzrange(:start, :end)"
)

_BUSY = text(
    """
    SELECT v.id, v.technician_id, lower(v.agreed_window), upper(v.agreed_window), wo.type,
           ST_Distance(s.location, target.location) AS distance
    FROM visits v
    JOIN work_orders wo ON wo.id = v.work_order_id
    JOIN sites s ON s.id = wo.site_id,
         sites target
    WHERE target.id = :site_id
      AND v.technician_id = ANY(:ids)
      AND v.agreed_window && tstzrange(:start, :end)
      AND v.status <> 'cancelled'
      AND (CAST(:exclude AS uuid) IS NULL OR v.id <> CAST(:exclude AS uuid))
    """
)


async def candidates(
    session: AsyncSession,
    site_id: uuid.UUID,
    skills: list[str],
    *,
    limit: int = 30,
    only: uuid.UUID | None = None,
) -> list[CandidateRow]:
    """Qualified, active technicians covering the site, nearest first."""
    rows = await session.execute(
        _CANDIDATES,
        {"site_id": site_id, "skills": skills, "limit": limit, "only": only},
    )
    return [CandidateRow(r[0], r[1], r[2], r[3], float(r[4])) for r in rows]


async def shifts(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[int, time, time]]]:
    """Weekly shifts per technician."""
    found: dict[uuid.UUID, list[tuple[int, time, time]]] = defaultdict(list)
    for technician_id, weekday, starts, ends in await session.execute(_SHIFTS, {"ids": ids}):
        found[technician_id].append((weekday, starts, ends))
    return found


async def absences(
    session: AsyncSession, ids: list[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, list[Interval]]:
    """Absences per technician overlapping [start, end)."""
    found: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    params = {"ids": ids, "start": start, "end": end}
    for technician_id, lower, upper in await session.execute(_ABSENCES, params):
        found[technician_id].append(Interval(lower, upper))
    return found


async def busy(
    session: AsyncSession,
    ids: list[uuid.UUID],
    site_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    exclude_visit: uuid.UUID | None = None,
) -> dict[uuid.UUID, list[BusyRow]]:
    """Live visits per technician in [start, end), with distances to the target site."""
    found: dict[uuid.UUID, list[BusyRow]] = defaultdict(list)
    params = {"ids": ids, "site_id": site_id, "start": start, "end": end, "exclude": exclude_visit}
    for visit_id, technician_id, lower, upper, work_type, distance in await session.execute(
        _BUSY, params
    ):
        found[technician_id].append(
            BusyRow(visit_id, technician_id, Interval(lower, upper), work_type, float(distance))
        )
    return found


def to_range(interval: Interval) -> Range[datetime]:
    """A half-open tstzrange."""
    return Range(interval.start, interval.end, bounds="[)")
