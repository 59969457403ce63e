"""Pure layout maths of the schedule board: where a time span sits on an hour axis.

The board draws each technician as a row and time as the horizontal axis. Positions are
percentages of the axis width, so the page scales with the window and needs no script to place
blocks. The axis runs between two instants (UTC); its hour ticks are the territory's local wall
clock hours, which zoneinfo resolves (a daylight-saving day has 23 or 25 hours, and the ticks
stay on the local hour).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Placement is by class, not inline style: the pages' CSP allows no style attributes. The static
# stylesheet ``static/staff/schedule-placement.css`` (``placement_css()``) has one rule per step
# of a quarter percent, about two minutes of a twelve-hour day.
PLACEMENT_STEPS_PER_PERCENT = 4
PLACEMENT_STEPS = 100 * PLACEMENT_STEPS_PER_PERCENT

# The hours shown when nothing on the day lies outside them: a working day with margin.
DEFAULT_FIRST_HOUR = 8
DEFAULT_LAST_HOUR = 20


@dataclass(frozen=True, slots=True)
class Span:
    """A horizontal placement: left edge and width, in percent of the axis."""

    left: float
    width: float

    @property
    def style(self) -> str:
        """The CSS declarations that place it exactly."""
        return f"left:{self.left:.3f}%;width:{self.width:.3f}%"

    @property
    def classes(self) -> str:
        """The placement classes of ``placement_css()`` nearest to this span."""
        left = _step(self.left)
        width = min(_step(self.width), PLACEMENT_STEPS - left)
        return f"pl-{left} pw-{width}"


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled gridline: a local hour (day view) or a local day (week view)."""

    at: datetime
    label: str
    left: float


@dataclass(frozen=True, slots=True)
class Axis:
    """The time axis of the board: [start, end) in UTC, labelled in ``zone``."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("an axis must end after it starts")

    @property
    def seconds(self) -> float:
        """How long the axis is."""
        return (self.end - self.start).total_seconds()

    def offset(self, at: datetime) -> float:
        """Where an instant falls, in percent, clamped to the axis."""
        share = (at - self.start).total_seconds() / self.seconds
        return min(100.0, max(0.0, share * 100))

    def span(self, start: datetime, end: datetime) -> Span | None:
        """The placement of [start, end), cut to the axis; None when it lies wholly outside.

        A zero-length span inside the axis (an instant) is kept with zero width, so a marker
        such as the planned arrival can still be drawn.
        """
        if end < start:
            raise ValueError("a span must not end before it starts")
        if end < self.start or start >= self.end or (end == self.start and start < end):
            return None
        left = self.offset(start)
        return Span(left=left, width=self.offset(end) - left)

    def hour_ticks(self) -> list[Tick]:
        """One tick per whole local hour inside the axis, labelled HH:00."""
        local = self.start.astimezone(self.zone)
        hour = local.replace(minute=0, second=0, microsecond=0)
        if hour < local:
            hour += timedelta(hours=1)
        ticks = []
        # Stepping in UTC keeps one tick per real hour on daylight-saving days.
        at = hour.astimezone(UTC)
        while at < self.end:
            label = at.astimezone(self.zone).strftime("%H:00")
            ticks.append(Tick(at=at, label=label, left=self.offset(at)))
            at += timedelta(hours=1)
        return ticks

    def day_ticks(self) -> list[Tick]:
        """One tick per local midnight inside the axis (week view), labelled with the date."""
        day = self.start.astimezone(self.zone).date()
        ticks: list[Tick] = []
        while True:
            at = local_midnight(day, self.zone)
            if at >= self.end:
                return ticks
            if at >= self.start:
                ticks.append(Tick(at=at, label=day.isoformat(), left=self.offset(at)))
            day += timedelta(days=1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant a local calendar day starts, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_axis(
    day: date,
    zone: ZoneInfo,
    content: Iterable[tuple[datetime, datetime]] = (),
    *,
    first_hour: int = DEFAULT_FIRST_HOUR,
    last_hour: int = DEFAULT_LAST_HOUR,
) -> Axis:
    """The axis of one local day: the default hours, widened to whole hours to show ``content``.

    ``content`` are the shifts, absences and visits of the day; anything reaching outside the
    default hours widens the axis (never beyond the local day), so nothing is hidden.
    """
    midnight = local_midnight(day, zone)
    next_midnight = local_midnight(day + timedelta(days=1), zone)
    start = datetime.combine(day, time(first_hour), tzinfo=zone).astimezone(UTC)
    end = (
        next_midnight
        if last_hour >= 24
        else datetime.combine(day, time(last_hour), tzinfo=zone).astimezone(UTC)
    )
    for lower, upper in content:
        start = min(start, max(lower, midnight))
        end = max(end, min(upper, next_midnight))
    return Axis(start=_floor_hour(start, zone), end=_ceil_hour(end, zone), zone=zone)


def week_axis(first_day: date, zone: ZoneInfo, days: int = 7) -> Axis:
    """The axis of ``days`` local days from ``first_day`` (midnight to midnight)."""
    return Axis(
        start=local_midnight(first_day, zone),
        end=local_midnight(first_day + timedelta(days=days), zone),
        zone=zone,
    )


def week_start(day: date) -> date:
    """The Monday of the week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def _floor_hour(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def _ceil_hour(at: datetime, zone: ZoneInfo) -> datetime:
    floor = _floor_hour(at, zone)
    return floor if floor == at else floor + timedelta(hours=1)


def _step(percent: float) -> int:
    return max(0, min(PLACEMENT_STEPS, round(percent * PLACEMENT_STEPS_PER_PERCENT)))


def placement_css() -> str:
    """The stylesheet of placement classes: ``pl-N`` (left) and ``pw-N`` (width), N steps."""
    lines = ["/* Generated by service.staff.schedule_layout.placement_css(); do not edit. */"]
    for n in range(PLACEMENT_STEPS + 1):
        percent = f"{n / PLACEMENT_STEPS_PER_PERCENT:g}%"
        lines.append(f".pl-{n}{{left:{percent}}}.pw-{n}{{width:{percent}}}")
    return "\n".join(lines) + "\n"
