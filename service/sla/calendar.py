"""Business-time arithmetic on a working calendar (pure).

A working calendar is weekly working hours in local civil time plus dated exceptions: holidays
(no work), shortened days (the end of the day is cut, e.g. the Russian pre-holiday hour) and
transferred working days (a weekend day that is worked). Local hours are turned into instants
in the calendar's IANA zone, so daylight-saving changes and zone offsets are the zone database's
business, not ours. All instants returned are in UTC.

Two measures share one interface: ``CalendarTime`` (every minute counts) and
``WorkingCalendar`` (only working minutes count). ``add(t, n)`` is the earliest instant at which
``n`` of the measure's time has elapsed since ``t``; ``elapsed(a, b)`` is the measure's time in
``[a, b)``. For ``n > 0`` on a working calendar the result always lies inside working hours,
possibly at the very end of a working period (18:00 sharp, not 09:00 the next day).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# A calendar with working hours cannot go this long without working time (guards the loops).
MAX_SCAN_DAYS = 20 * 366
_ZERO = timedelta(0)


class CalendarError(ValueError):
    """The calendar cannot answer (no working time at all, or the scan limit was reached)."""


class Measure(Protocol):
    """How time is counted for a clock."""

    @property
    def name(self) -> str:
        """``calendar`` or ``business``."""
        ...

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant at which ``amount`` of counted time has elapsed since ``start``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Counted time in ``[start, end)``; zero when ``end <= start``."""
        ...


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CalendarTime:
    """Every minute counts (24/7)."""

    @property
    def name(self) -> str:
        """The measure's name."""
        return "calendar"

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """``start + amount``."""
        if amount < _ZERO:
            raise ValueError("amount must not be negative")
        return _aware(start) + amount

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """``end - start``, never negative."""
        return max(_aware(end) - _aware(start), _ZERO)


@dataclass(frozen=True, slots=True)
class Period:
    """Local working time on a day, in minutes after midnight: [start, end), end up to 1440."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"bad working period {self.start}-{self.end}")

    @classmethod
    def of(cls, start: time | str, end: time | str) -> Period:
        """From ``time`` values or ``"HH:MM"`` strings; ``"24:00"`` is the end of the day."""
        return cls(_minutes(start), _minutes(end))


def _minutes(value: time | str) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


Week = tuple[tuple[Period, ...], ...]


def make_week(periods: Iterable[tuple[int, Period]]) -> Week:
    """Seven days (0 = Monday) of sorted periods; overlapping periods on a day are refused."""
    days: list[list[Period]] = [[] for _ in range(7)]
    for weekday, period in periods:
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday {weekday} is not 0..6")
        days[weekday].append(period)
    for weekday, day in enumerate(days):
        day.sort(key=lambda p: p.start)
        for first, second in itertools.pairwise(day):
            if second.start < first.end:
                raise ValueError(f"working periods overlap on weekday {weekday}")
    return tuple(tuple(day) for day in days)


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Weekly hours in a zone, with holidays, shortened days and transferred working days.

    Precedence on a date: holiday (no work) > transferred working day (worked with the hours of
    the first weekday that has hours) > the weekly hours. A shortened day loses that many minutes
    from the end of its working time; a transferred working day may be shortened too.
    """

    zone: ZoneInfo
    week: Week
    holidays: frozenset[date] = frozenset()
    shortened: Mapping[date, int] = field(default_factory=dict)
    working_days: frozenset[date] = frozenset()
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not any(self.week):
            raise CalendarError("the calendar has no working hours")
        if self.holidays & self.working_days:
            raise CalendarError("a date cannot be both a holiday and a working day")

    @property
    def name(self) -> str:
        """The measure's name."""
        return "business"

    def local_periods(self, day: date) -> tuple[Period, ...]:
        """Working periods of a local date, after holidays, transfers and shortening."""
        if day in self.holidays:
            return ()
        if day in self.working_days:
            periods = next(p for p in self.week if p)
        else:
            periods = self.week[day.weekday()]
        cut = self.shortened.get(day, 0)
        if cut <= 0:
            return periods
        kept: list[Period] = []
        for period in reversed(periods):
            length = period.end - period.start
            if cut >= length:
                cut -= length
                continue
            kept.append(Period(period.start, period.end - cut))
            cut = 0
        return tuple(reversed(kept))

    def periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Working periods of a local date as UTC instants."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, time(0))
        instants = []
        for period in self.local_periods(day):
            start = self._instant(midnight + timedelta(minutes=period.start))
            end = self._instant(midnight + timedelta(minutes=period.end))
            if end > start:
                instants.append((start, end))
        result = tuple(instants)
        self._cache[day] = result
        return result

    def _instant(self, local: datetime) -> datetime:
        # fold=0: a wall time that repeats (DST end) means its first occurrence; one that does
        # not exist (DST start) is read with the offset before the change, as zoneinfo does.
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _first_day(self, instant: datetime) -> date:
        # A period of the previous local day can end after local midnight only through a DST
        # shift; starting one day early costs one lookup and removes the doubt.
        return instant.astimezone(self.zone).date() - timedelta(days=1)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of working time has elapsed since ``start``."""
        if amount < _ZERO:
            raise ValueError("amount must not be negative")
        start = _aware(start)
        if amount == _ZERO:
            return start
        remaining = amount
        # A cursor, not ``start``: around a daylight-saving gap two local periods can overlap in
        # UTC, and no instant may count twice.
        cursor = start
        day = self._first_day(start)
        for _ in range(MAX_SCAN_DAYS):
            for period_start, period_end in self.periods(day):
                if period_end <= cursor:
                    continue
                begin = max(period_start, cursor)
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = period_end
            day += timedelta(days=1)
        raise CalendarError("no working time found within the scan limit")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time in ``[start, end)``."""
        start, end = _aware(start), _aware(end)
        if end <= start:
            return _ZERO
        total = _ZERO
        cursor = start
        day = self._first_day(start)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for period_start, period_end in self.periods(day):
                low, high = max(period_start, cursor), min(period_end, end)
                if high > low:
                    total += high - low
                    cursor = high
            day += timedelta(days=1)
        return total

    def is_working(self, instant: datetime) -> bool:
        """Whether ``instant`` lies inside working hours (period ends excluded)."""
        instant = _aware(instant)
        day = self._first_day(instant)
        for offset in range(3):
            for period_start, period_end in self.periods(day + timedelta(days=offset)):
                if period_start <= instant < period_end:
                    return True
        return False


def last_local_day(deadline: datetime, zone: ZoneInfo) -> date:
    """The last local day a deadline leaves: one at midnight ends the day before it.

    Printing a midnight deadline's own date (the 13th for 00:00 on the 13th) would promise a day
    the clock does not give; a deadline at any other time ends on its own date.
    """
    return (_aware(deadline).astimezone(zone) - timedelta(microseconds=1)).date()


def minutes(amount: timedelta) -> int:
    """Whole minutes, rounded down."""
    return int(amount.total_seconds() // 60)


def add_working_days(start: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """The end of working time of the ``days``-th working day after the date of ``start``."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start.astimezone(calendar.zone).date()
    counted = 0
    for _ in range(MAX_SCAN_DAYS):
        day += timedelta(days=1)
        periods = calendar.periods(day)
        if periods:
            counted += 1
            if counted == days:
                return periods[-1][1]
    raise CalendarError("no working day found within the scan limit")
