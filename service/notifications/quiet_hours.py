"""When a message may reach a customer: working days 09:00-18:00 local time (seed 000 §9),
except that a message about a visit always arrives before the visit.

Pure functions, no clock and no database: callers pass ``now``, the recipient's IANA time zone,
the customer's agreed window when there is one, and the public holidays they know of.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

WORKDAY_START = time(9, 0)
WORKDAY_END = time(18, 0)
WORKING_WEEKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday..Friday
ALL_WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)
# A message about a visit (or a promised date) that cannot wait for working hours may still
# go from 09:00 to 21:00 local on any day; at night only when the visit is too close for 09:00.
DAYTIME_START = time(9, 0)
DAYTIME_END = time(21, 0)
# How long before its deadline such a message should arrive (a visit notice at 09:00 for a
# 09:00 visit is as good as none).
NOTICE_LEAD = timedelta(hours=1)
# Long enough for any realistic holiday calendar; a longer search means a configuration error.
_SEARCH_DAYS = 400


class AgreedWindow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A local daily window the customer agreed to be contacted in (overrides working hours).

    ``weekdays`` are ISO-style numbers from 0 (Monday) to 6 (Sunday). The customer agreed to
    these days explicitly, so public holidays do not close an agreed window.
    """

    start: time
    end: time
    weekdays: tuple[int, ...] = ALL_WEEKDAYS

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("agreed window end must be after its start (same day)")
        if not self.weekdays or any(d not in ALL_WEEKDAYS for d in self.weekdays):
            raise ValueError("agreed window weekdays must be a non-empty subset of 0..6")


def _as_zone(time_zone: str | ZoneInfo) -> ZoneInfo:
    return time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)


def earliest_send_time(
    now: datetime,
    time_zone: str | ZoneInfo,
    *,
    urgent: bool = False,
    agreed: AgreedWindow | None = None,
    holidays: Collection[date] = frozenset(),
    deadline: datetime | None = None,
) -> datetime:
    """The first moment at or after ``now`` a message may be sent, in UTC.

    Urgent messages go at once. Others wait for the next working-day window (Monday to
    Friday, 09:00 inclusive to 18:00 exclusive, local time, holidays skipped), or for the
    customer's agreed window. A message about something at ``deadline`` (a visit's start) must
    arrive before it: when waiting for that window would not leave ``NOTICE_LEAD`` before the
    deadline, :func:`send_before` decides instead (late is worse than early).
    """
    if now.tzinfo is None or (deadline is not None and deadline.tzinfo is None):
        raise ValueError("now and deadline must be timezone-aware")
    now_utc = now.astimezone(UTC)
    if urgent:
        return now_utc
    zone = _as_zone(time_zone)
    chosen = _next_open(now_utc, zone, agreed, holidays)
    if deadline is not None and chosen > deadline.astimezone(UTC) - NOTICE_LEAD:
        return send_before(now_utc, zone, deadline)
    return chosen


def send_before(now: datetime, time_zone: str | ZoneInfo, deadline: datetime) -> datetime:
    """When a message that must arrive before ``deadline`` goes, in UTC, ignoring working hours.

    In the daytime (09:00-21:00 local, any day) it goes at once. At night it waits for 09:00
    unless that would not leave ``NOTICE_LEAD`` before the deadline (a visit starting before
    about 10:00 the next morning): then it goes at once, as being woken is better than a
    technician at a door nobody expects. A deadline already past also sends at once.
    """
    now_utc = now.astimezone(UTC)
    zone = _as_zone(time_zone)
    local = now_utc.astimezone(zone)
    if DAYTIME_START <= local.time() < DAYTIME_END:
        return now_utc
    morning_day = local.date() if local.time() < DAYTIME_START else local.date() + timedelta(1)
    morning = datetime.combine(morning_day, DAYTIME_START, tzinfo=zone).astimezone(UTC)
    if morning <= deadline.astimezone(UTC) - NOTICE_LEAD:
        return morning
    return now_utc


def _next_open(
    now_utc: datetime,
    zone: ZoneInfo,
    agreed: AgreedWindow | None,
    holidays: Collection[date],
) -> datetime:
    """The first moment at or after ``now_utc`` inside working hours or the agreed window."""
    if agreed is not None:
        start, end = agreed.start, agreed.end
        weekdays: Collection[int] = frozenset(agreed.weekdays)
        closed: Collection[date] = frozenset()
    else:
        start, end, weekdays, closed = WORKDAY_START, WORKDAY_END, WORKING_WEEKDAYS, holidays
    today = now_utc.astimezone(zone).date()
    for offset in range(_SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if day.weekday() not in weekdays or day in closed:
            continue
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall time, not instant.
        opens = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
        if now_utc >= closes:
            continue
        return max(now_utc, opens)
    raise ValueError(f"no allowed sending time within {_SEARCH_DAYS} days")


def is_allowed_now(
    now: datetime,
    time_zone: str | ZoneInfo,
    *,
    agreed: AgreedWindow | None = None,
    holidays: Collection[date] = frozenset(),
) -> bool:
    """True when a non-urgent message may be sent at ``now``."""
    return earliest_send_time(now, time_zone, agreed=agreed, holidays=holidays) == now.astimezone(
        UTC
    )
