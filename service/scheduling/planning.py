"""Pure scheduling logic: travel estimates, window feasibility, candidate ranking, day plans.

Model: a promised window is the arrival window. A technician is planned to arrive as early as
possible inside it, works for the work type's service time, then travels on. Distances come from
PostGIS (straight line, metres); travel time = distance x detour factor / average speed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class TravelModel:
    """How fast technicians move in a territory."""

    speed_kmh: float = 30.0
    detour_factor: float = 1.4

    def minutes(self, distance_m: float) -> float:
        """Travel minutes for a straight-line distance."""
        return distance_m * self.detour_factor / 1000 / self.speed_kmh * 60

    def duration(self, distance_m: float) -> timedelta:
        """Travel time, rounded up to the minute."""
        return timedelta(minutes=math.ceil(self.minutes(distance_m)))


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open time interval [start, end)."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share any instant."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """Whether ``other`` lies entirely inside."""
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True)
class BookedVisit:
    """A visit already on a technician's day, with distances to the site being planned."""

    window: Interval
    service: timedelta
    to_target_m: float
    from_target_m: float


@dataclass(frozen=True, slots=True)
class TechnicianDay:
    """Everything about one technician's day that decides where a new visit fits."""

    technician_id: object
    shifts: Sequence[Interval]
    absences: Sequence[Interval]
    visits: Sequence[BookedVisit]
    capacity: int
    home_to_target_m: float
    travel: TravelModel = field(default_factory=TravelModel)


@dataclass(frozen=True, slots=True)
class Fit:
    """A window a technician can serve, with the estimated arrival and how far they come."""

    technician_id: object
    window: Interval
    arrival: datetime
    travel_minutes: int
    distance_m: float
    load: int


# Reasons a window does not fit; stable codes the API returns with a 422.
OUTSIDE_SHIFT = "outside_shift"
ABSENT = "absent"
CAPACITY = "capacity_reached"
UNREACHABLE = "cannot_arrive_in_time"
NEXT_AT_RISK = "next_visit_at_risk"
IN_PAST = "in_the_past"


def shift_intervals(
    day: date, zone: ZoneInfo, shifts: Iterable[tuple[int, time, time]]
) -> list[Interval]:
    """The shifts of a local calendar day as UTC intervals.

    Arithmetic on aware datetimes of one zone is wall-clock in Python, so everything downstream
    works in UTC; zoneinfo resolves the local times (including daylight-saving days).
    """
    weekday = day.weekday()
    return sorted(
        (
            Interval(
                datetime.combine(day, starts, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, ends, tzinfo=zone).astimezone(UTC),
            )
            for shift_day, starts, ends in shifts
            if shift_day == weekday
        ),
        key=lambda i: i.start,
    )


def slot_grid(
    shifts: Sequence[Interval], width: timedelta, step: timedelta, zone: ZoneInfo
) -> list[Interval]:
    """Windows of ``width`` every ``step`` from each shift's first whole local hour."""
    windows: set[Interval] = set()
    for shift in shifts:
        local = shift.start.astimezone(zone)
        if local.minute or local.second or local.microsecond:
            local = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = local.astimezone(UTC)
        while start + width <= shift.end:
            windows.add(Interval(start, start + width))
            start += step
    return sorted(windows, key=lambda w: w.start)


def evaluate(
    day: TechnicianDay,
    window: Interval,
    service: timedelta,
    *,
    not_before: datetime,
    ignore_overlaps: bool = False,
) -> Fit | str:
    """Whether the technician can take a visit in ``window``: a Fit, or the reason code.

    With ``ignore_overlaps`` the caller leaves overlapping windows to the database's exclusion
    constraint (booking), and only travel to and from the neighbours is checked.
    """
    if window.start < not_before:
        return IN_PAST
    if not any(shift.contains(window) for shift in day.shifts):
        return OUTSIDE_SHIFT
    if any(absence.overlaps(window) for absence in day.absences):
        return ABSENT
    others = [v for v in day.visits if not v.window.overlaps(window)]
    if not ignore_overlaps and len(others) != len(day.visits):
        return "overlaps_visit"
    if len(others) >= day.capacity:
        return CAPACITY
    before = [v for v in others if v.window.start < window.start]
    after = [v for v in others if v.window.start >= window.end]
    shift = next(s for s in day.shifts if s.contains(window))
    if before:
        previous = max(before, key=lambda v: v.window.start)
        ready = previous.window.start + previous.service
        distance = previous.to_target_m
        ready = max(ready, shift.start)
    else:
        ready = shift.start
        distance = day.home_to_target_m
    travel = day.travel.duration(distance)
    arrival = max(window.start, ready + travel)
    if arrival >= window.end:
        return UNREACHABLE
    if after:
        following = min(after, key=lambda v: v.window.start)
        leave = arrival + service
        if leave + day.travel.duration(following.from_target_m) >= following.window.end:
            return NEXT_AT_RISK
    return Fit(
        technician_id=day.technician_id,
        window=window,
        arrival=arrival,
        travel_minutes=int(travel.total_seconds() // 60),
        distance_m=distance,
        load=len(others),
    )


LOAD_WEIGHT_MINUTES = 20.0


def cost(
    travel_minutes: float, load: int, load_weight_minutes: float = LOAD_WEIGHT_MINUTES
) -> float:
    """What a candidate costs: travel plus the day's load, a visit counting as 20 minutes."""
    return travel_minutes + load_weight_minutes * load


def rank(fits: Iterable[Fit], load_weight_minutes: float = LOAD_WEIGHT_MINUTES) -> list[Fit]:
    """Best candidates first: least travel, then lightest day (a visit counts as 20 minutes)."""
    return sorted(
        fits,
        key=lambda f: (
            cost(f.travel_minutes, f.load, load_weight_minutes),
            f.distance_m,
            str(f.technician_id),
        ),
    )


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """One visit of a day plan with its predicted arrival."""

    window: Interval
    service: timedelta
    distance_from_previous_m: float
    reported_eta: datetime | None = None
    arrived_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """Predicted arrival and whether it misses the promised window."""

    travel_minutes: int
    arrival: datetime
    late: bool


def predict_day(
    stops: Sequence[PlannedStop], day_start: datetime, travel: TravelModel, now: datetime
) -> list[Prediction]:
    """Chain the visits in order: arrive at max(window start, ready + travel), then work.

    Actual arrivals and reported ETAs replace estimates; nobody leaves earlier than now.
    """
    predictions: list[Prediction] = []
    ready = day_start
    for stop in stops:
        travel_time = travel.duration(stop.distance_from_previous_m)
        if stop.arrived_at is not None:
            arrival = stop.arrived_at
        elif stop.reported_eta is not None:
            arrival = max(stop.reported_eta, stop.window.start)
        else:
            arrival = max(stop.window.start, max(ready, now) + travel_time)
        predictions.append(
            Prediction(
                travel_minutes=int(travel_time.total_seconds() // 60),
                arrival=arrival,
                late=arrival > stop.window.end,
            )
        )
        ready = stop.finished_at or (arrival + stop.service)
    return predictions
