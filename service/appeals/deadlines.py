"""Control deadlines of appeals as clocks (pure): days on the territory's calendar.

A deadline of ``n`` days runs out at the end of the ``n``-th day after the day of
registration, in the territory's zone: calendar days count every date, working days only the
dates the territory's working calendar (``service.sla.calendar.WorkingCalendar``: holidays,
transferred working days) has working hours on, and end when that day's work ends. A
registration on a holiday or after hours therefore starts counting on the next day, as a
written appeal received then is registered the next working day.

The clock's state is read as an SLA clock's is (``service.sla.clock`` status names): running,
warning from the policy's share of the span, breached at the due time, met when answered (or
refused with notice) before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from service.sla.calendar import (
    Period,
    WorkingCalendar,
    add_working_days,
    make_week,
)
from service.sla.clock import BREACHED, MET, RUNNING, WARNING

Gender = Literal["female", "male"]

CALENDAR = "calendar"
WORKING = "working"


@dataclass(frozen=True, slots=True)
class Policy:
    """One kind's deadlines: on the merits, the most it may be extended to, competence notice."""

    merits_days: int
    max_days: int
    day_kind: str  # calendar | working
    competence_working_days: int = 5
    warning_ratio: float = 0.7


# Seed 001 §6.1: a: 7 days, 30 at most; b: 5 working days; g: claim on quality, 3 working days.
DEFAULT_POLICIES: dict[str, Policy] = {
    "question": Policy(7, 30, CALENDAR),
    "request": Policy(7, 30, CALENDAR),
    "complaint": Policy(7, 30, CALENDAR),
    "quality_claim": Policy(3, 30, WORKING),
}


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The instants an appeal's clocks run out at (UTC)."""

    due_at: datetime
    warning_at: datetime
    max_due_at: datetime
    competence_due_at: datetime


def _midnight_after(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of the day after ``day`` in ``zone`` (the end of ``day``), in UTC."""
    following = day + timedelta(days=1)
    return datetime.combine(following, time(0)).replace(tzinfo=zone).astimezone(UTC)


def add_calendar_days(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The end of the ``days``-th local date after the date of ``start``."""
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(zone).date()
    return _midnight_after(local + timedelta(days=days), zone)


def add_days(
    start: datetime, days: int, day_kind: str, zone: ZoneInfo, calendar: WorkingCalendar | None
) -> datetime:
    """``days`` of the kind after ``start``; working days without a calendar count Mon-Fri."""
    if day_kind == CALENDAR:
        return add_calendar_days(start, days, zone)
    if calendar is None:
        calendar = _weekdays(zone)
    return add_working_days(start, days, calendar)


def _weekdays(zone: ZoneInfo) -> WorkingCalendar:
    return WorkingCalendar(zone=zone, week=make_week((d, Period(540, 1080)) for d in range(5)))


def deadlines(
    registered_at: datetime,
    policy: Policy,
    zone: ZoneInfo,
    calendar: WorkingCalendar | None,
) -> Deadlines:
    """An appeal's deadlines from its registration time and its kind's policy."""
    due = add_days(registered_at, policy.merits_days, policy.day_kind, zone, calendar)
    longest = add_days(registered_at, policy.max_days, policy.day_kind, zone, calendar)
    competence = add_days(registered_at, policy.competence_working_days, WORKING, zone, calendar)
    warning = registered_at + (due - registered_at) * policy.warning_ratio
    return Deadlines(
        due_at=due,
        warning_at=warning,
        max_due_at=max(longest, due),
        competence_due_at=competence,
    )


def clock_status(
    due_at: datetime, warning_at: datetime, closed_at: datetime | None, now: datetime
) -> str:
    """running, warning, breached, or met (closed before the due time)."""
    if closed_at is not None:
        return MET if closed_at <= due_at else BREACHED
    if now >= due_at:
        return BREACHED
    if now >= warning_at:
        return WARNING
    return RUNNING


# Patronymic endings (seed 001 §5.8 addresses a customer by name and patronymic): Russian
# -вич/-ич and -вна/-чна/-ична, Kazakh -ұлы/-қызы (also written as a separate word), and their
# Latin spellings. Only a name that ends in one is read as «surname, name, patronymic».
_MALE_ENDINGS = ("вич", "ич", "ұлы", "улы", "оглы", "vich", "ich", "uly", "ogly")
_FEMALE_ENDINGS = ("вна", "чна", "ична", "қызы", "кызы", "кизи", "vna", "chna", "kyzy", "qyzy")


def _patronymic_gender(full_name: str) -> Gender | None:
    words = full_name.lower().split()
    if len(words) < 2:
        return None
    last = words[-1]
    if last.endswith(_FEMALE_ENDINGS):
        return "female"
    if last.endswith(_MALE_ENDINGS):
        return "male"
    return None


def salutation_name(full_name: str) -> str:
    """Name and patronymic of «Фамилия Имя Отчество» (seed 001 §5.8), else the name as given.

    Three or more words ending in a patronymic are read as surname, name, patronymic (Kazakh
    patronymics may be two words: «Ахметов Нұрлан Серік ұлы»); any other name («Mary Ann
    Smith», «Мадина») is used as given.
    """
    words = full_name.split()
    if len(words) >= 3 and _patronymic_gender(full_name) is not None:
        return " ".join(words[1:])
    return " ".join(words)


def salutation_gender(full_name: str) -> Gender | None:
    """Whom «Уважаемый»/«Уважаемая» addresses, read from the patronymic; None when unknown."""
    return _patronymic_gender(full_name)
