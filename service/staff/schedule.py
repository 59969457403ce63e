"""The schedule board's data: technicians x time of one territory, for one day or one week.

Each technician's visits are chained exactly like the day plan (``scheduling.planning``):
travel from the previous site (or home base), arrival at the earliest inside the promised
window, the work type's service time; reported ETAs and actual arrivals replace estimates.
Everything about the board is read in a handful of queries, whatever the number of rows.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import Technician, Territory
from service.db.models.technicians import technician_territories
from service.errors import NotFound
from service.scheduling import planning, queries
from service.scheduling.planning import Interval, TravelModel
from service.scheduling.services import SchedulingContext
from service.staff.schedule_layout import (
    Axis,
    Span,
    Tick,
    day_axis,
    local_midnight,
    week_axis,
    week_start,
)

View = Literal["day", "week"]
# Phone statuses the board shows as live (the rest are outcomes, drawn as finished).
LIVE_STATUS_NAMES = ("planned", "en_route", "on_site")


@dataclass(frozen=True, slots=True)
class TerritoryRef:
    """A territory the caller may look at."""

    id: uuid.UUID
    code: str
    name: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class VisitBlock:
    """One visit on the board: the promised window, travel, planned arrival and work."""

    visit_id: uuid.UUID
    work_order_id: uuid.UUID | None  # None: a visit in a territory the caller cannot see
    number: str | None
    work_type: str | None
    address: str | None
    status: str
    window: Interval
    arrival: datetime
    work_end: datetime
    travel_minutes: int
    late: bool
    window_span: Span
    travel_span: Span | None
    work_span: Span | None

    @property
    def visible(self) -> bool:
        """Whether the caller may see what the visit is (its order is in their scope)."""
        return self.work_order_id is not None


@dataclass(slots=True)
class TechnicianRow:
    """A technician's row: shifts and absences shaded under the visit blocks."""

    id: uuid.UUID
    name: str
    shifts: list[Span] = field(default_factory=list)
    absences: list[Span] = field(default_factory=list)
    visits: list[VisitBlock] = field(default_factory=list)

    @property
    def late_count(self) -> int:
        """How many of the row's visits are predicted late."""
        return sum(1 for v in self.visits if v.late and v.status in LIVE_STATUS_NAMES)


@dataclass(frozen=True, slots=True)
class ScheduleBoard:
    """Everything the board page draws."""

    territory: TerritoryRef
    territories: list[TerritoryRef]
    view: View
    day: date
    axis: Axis
    ticks: list[Tick]
    rows: list[TechnicianRow]
    now: Span | None

    @property
    def previous_day(self) -> date:
        """The day the "back" link shows (a week back in the week view)."""
        return self.day - timedelta(days=7 if self.view == "week" else 1)

    @property
    def next_day(self) -> date:
        """The day the "forward" link shows."""
        return self.day + timedelta(days=7 if self.view == "week" else 1)


# Visits of the technicians on the axis with the distance from the previous stop of the same
# local day (or home base for the day's first), so each day chains like the technician's plan.
_VISITS = text(
    """
    SELECT v.id, v.technician_id, v.status, v.eta, v.arrived_at, v.finished_at,
           lower(v.agreed_window) AS lower, upper(v.agreed_window) AS upper,
           wo.id AS work_order_id, wo.territory_id, wo.number, wo.type, s.address,
           (lower(v.agreed_window) AT TIME ZONE :zone)::date AS local_day,
           ST_Distance(
               s.location,
               COALESCE(
                   LAG(s.location) OVER same_day,
                   t.home_base
               )
           ) AS from_previous
    FROM visits v
    JOIN work_orders wo ON wo.id = v.work_order_id
    JOIN sites s ON s.id = wo.site_id
    JOIN technicians t ON t.id = v.technician_id
    WHERE v.technician_id = ANY(:ids)
      AND v.agreed_window && tstzrange(:start, :end)
      AND v.status <> 'cancelled'
    WINDOW same_day AS (
        PARTITION BY v.technician_id, (lower(v.agreed_window) AT TIME ZONE :zone)::date
        ORDER BY lower(v.agreed_window)
    )
    ORDER BY v.technician_id, lower(v.agreed_window)
    """
)

# What the live fragment depends on: a change to any visit of the board's technicians.
_VERSION = text(
    """
    SELECT count(*), max(v.updated_at), coalesce(sum(v.version), 0)
    FROM visits v
    WHERE v.technician_id IN (
        SELECT tt.technician_id FROM technician_territories tt WHERE tt.territory_id = :tid
    )
      AND v.agreed_window && tstzrange(:start, :end)
    """
)


class ScheduleBoardService:
    """Reads the schedule board of one of the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def territories(self) -> list[TerritoryRef]:
        """The territories the caller may see, by name."""
        rows = await self.session.scalars(
            select(Territory)
            .where(territory_condition(self.actor, Territory.id))
            .order_by(Territory.name, Territory.code)
        )
        return [TerritoryRef(t.id, t.code, t.name, t.time_zone) for t in rows]

    async def territory(self, code: str | None) -> tuple[TerritoryRef, list[TerritoryRef]]:
        """The territory by code (default the caller's first); NotFound when out of scope."""
        visible = await self.territories()
        if not visible:
            raise NotFound("No territory is assigned to you")
        if code is None:
            return visible[0], visible
        for territory in visible:
            if territory.code == code:
                return territory, visible
        raise NotFound("No such territory")

    async def board(self, code: str | None, day: date | None, view: View = "day") -> ScheduleBoard:
        """The board of a territory's local day (or the week holding it)."""
        territory, visible = await self.territory(code)
        zone = ZoneInfo(territory.time_zone)
        now = utcnow()
        day = day or now.astimezone(zone).date()
        first = week_start(day) if view == "week" else day
        days = [first + timedelta(days=i) for i in range(7 if view == "week" else 1)]
        period_start = local_midnight(days[0], zone)
        period_end = local_midnight(days[-1] + timedelta(days=1), zone)

        technicians = (
            await self.session.execute(
                select(Technician.id, Technician.full_name)
                .join(
                    technician_territories,
                    technician_territories.c.technician_id == Technician.id,
                )
                .where(technician_territories.c.territory_id == territory.id, Technician.active)
                .order_by(Technician.full_name, Technician.id)
            )
        ).all()
        ids = [t.id for t in technicians]
        weekly = await queries.shifts(self.session, ids)
        absences = await queries.absences(self.session, ids, period_start, period_end)
        visit_rows = (
            await self.session.execute(
                _VISITS,
                {"ids": ids, "start": period_start, "end": period_end, "zone": territory.time_zone},
            )
        ).all()
        durations = await SchedulingContext(self.session).service_minutes()
        travel_row = await self.session.get_one(Territory, territory.id)
        travel = TravelModel(travel_row.travel_speed_kmh, travel_row.detour_factor)

        shifts = {
            tid: [s for d in days for s in planning.shift_intervals(d, zone, weekly.get(tid, []))]
            for tid in ids
        }
        if view == "week":
            axis = week_axis(days[0], zone)
            ticks = axis.day_ticks()
        else:
            content = [(s.start, s.end) for tid in ids for s in shifts[tid]]
            content += [(r.lower, r.upper) for r in visit_rows]
            axis = day_axis(day, zone, content)
            ticks = axis.hour_ticks()

        by_technician_day: dict[tuple[uuid.UUID, date], list[Any]] = defaultdict(list)
        for r in visit_rows:
            by_technician_day[(r.technician_id, r.local_day)].append(r)
        blocks: dict[uuid.UUID, list[VisitBlock]] = defaultdict(list)
        for (tid, local_day), rows in by_technician_day.items():
            day_shifts = planning.shift_intervals(local_day, zone, weekly.get(tid, []))
            day_start = day_shifts[0].start if day_shifts else local_midnight(local_day, zone)
            blocks[tid].extend(self._blocks(rows, day_start, travel, durations, axis, now))

        rows_out = []
        for tid, name in technicians:
            row = TechnicianRow(id=tid, name=name)
            row.shifts = [s for i in shifts[tid] if (s := axis.span(i.start, i.end)) is not None]
            row.absences = [
                s for i in absences.get(tid, []) if (s := axis.span(i.start, i.end)) is not None
            ]
            row.visits = blocks.get(tid, [])
            rows_out.append(row)
        return ScheduleBoard(
            territory=territory,
            territories=visible,
            view=view,
            day=day,
            axis=axis,
            ticks=ticks,
            rows=rows_out,
            now=axis.span(now, now) if axis.start <= now < axis.end else None,
        )

    async def version(self, code: str | None, day: date | None, view: View = "day") -> str:
        """A cheap tag of what the live board shows: visits changed, or another minute began.

        The minute counts because predicted arrivals move with the clock.
        """
        territory, _ = await self.territory(code)
        zone = ZoneInfo(territory.time_zone)
        now = utcnow()
        day = day or now.astimezone(zone).date()
        first = week_start(day) if view == "week" else day
        last = first + timedelta(days=7 if view == "week" else 1)
        count, changed, versions = (
            await self.session.execute(
                _VERSION,
                {
                    "tid": territory.id,
                    "start": local_midnight(first, zone),
                    "end": local_midnight(last, zone),
                },
            )
        ).one()
        raw = f"{territory.id}|{view}|{first}|{count}|{changed}|{versions}|{now:%Y%m%d%H%M}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def _blocks(
        self,
        rows: list[Any],
        day_start: datetime,
        travel: TravelModel,
        durations: dict[str, timedelta],
        axis: Axis,
        now: datetime,
    ) -> list[VisitBlock]:
        stops = [
            planning.PlannedStop(
                window=Interval(r.lower, r.upper),
                service=durations.get(r.type, timedelta(hours=1)),
                distance_from_previous_m=float(r.from_previous or 0),
                reported_eta=r.eta,
                arrived_at=r.arrived_at,
                finished_at=r.finished_at,
            )
            for r in rows
        ]
        predictions = planning.predict_day(stops, day_start, travel, now)
        out = []
        for r, stop, p in zip(rows, stops, predictions, strict=True):
            window_span = axis.span(stop.window.start, stop.window.end)
            if window_span is None:
                continue
            work_end = stop.finished_at or (p.arrival + stop.service)
            visible = self.actor.covers_territory(r.territory_id)
            out.append(
                VisitBlock(
                    visit_id=r.id,
                    work_order_id=r.work_order_id if visible else None,
                    number=r.number if visible else None,
                    work_type=r.type if visible else None,
                    address=r.address if visible else None,
                    status=r.status,
                    window=stop.window,
                    arrival=p.arrival,
                    work_end=work_end,
                    travel_minutes=p.travel_minutes,
                    late=p.late,
                    window_span=window_span,
                    travel_span=axis.span(
                        p.arrival - timedelta(minutes=p.travel_minutes), p.arrival
                    )
                    if p.travel_minutes
                    else None,
                    work_span=axis.span(p.arrival, max(p.arrival, work_end)),
                )
            )
        return out
