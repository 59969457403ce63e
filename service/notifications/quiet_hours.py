"""When a message may reach a customer: working days 09:00-18:00 local time (seed 000 §9).

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
    customer's agreed window. When waiting would miss ``deadline`` (a message about a visit
    that starts before the window opens), the message goes at once: late is worse than early.
    """
    if now.tzinfo is None or (deadline is not None and deadline.tzinfo is None):
        raise ValueError("now and deadline must be timezone-aware")
    now_utc = now.astimezone(UTC)
    if urgent:
        return now_utc
    zone = _as_zone(time_zone)
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
        chosen = max(now_utc, opens)
        if deadline is not None and chosen > deadline.astimezone(UTC):
            return now_utc
        return chosen
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
