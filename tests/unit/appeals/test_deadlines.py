"""Appeal deadlines on the calendar maths: calendar and working days, holidays, transfers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.appeals.deadlines import (
    DEFAULT_POLICIES,
    Policy,
    add_calendar_days,
    add_working_days,
    clock_status,
    deadlines,
    salutation_gender,
    salutation_name,
)
from service.sla.calendar import Period, WorkingCalendar, make_week

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+05:00 all year
WEEK = make_week((d, Period.of("09:00", "18:00")) for d in range(5))
# Kazakhstan's Independence Day, Wednesday 16 December 2026; Saturday 19 December worked.
CALENDAR = WorkingCalendar(
    zone=ALMATY,
    week=WEEK,
    holidays=frozenset({date(2026, 12, 16)}),
    working_days=frozenset({date(2026, 12, 19)}),
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ALMATY)  # type: ignore[misc]


def test_calendar_days_end_at_local_midnight() -> None:
    # 7 days after Saturday 5 December: the end of Saturday 12 December, Almaty time.
    due = add_calendar_days(local(2026, 12, 5, 10, 0), 7, ALMATY)
    assert due == local(2026, 12, 13, 0, 0)
    assert due.tzinfo is UTC


def test_calendar_days_count_holidays_and_weekends() -> None:
    assert add_calendar_days(local(2026, 12, 15, 23, 59), 1, ALMATY) == local(2026, 12, 17)


def test_working_days_skip_weekends_and_holidays() -> None:
    # Friday 11 Dec: Mon 14, Tue 15, (Wed 16 holiday), Thu 17 is the third working day.
    due = add_working_days(local(2026, 12, 11, 12, 0), 3, CALENDAR)
    assert due == local(2026, 12, 17, 18, 0)


def test_a_transferred_saturday_is_a_working_day() -> None:
    # Thursday 17 Dec: Fri 18, Sat 19 (worked), then Mon 21.
    assert add_working_days(local(2026, 12, 17, 9, 0), 2, CALENDAR) == local(2026, 12, 19, 18, 0)
    assert add_working_days(local(2026, 12, 17, 9, 0), 3, CALENDAR) == local(2026, 12, 21, 18, 0)


def test_registration_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert add_working_days(local(2026, 12, 16, 11, 0), 1, CALENDAR) == local(2026, 12, 17, 18, 0)


def test_working_days_need_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(local(2026, 12, 16), 0, CALENDAR)


def test_the_seeds_defaults() -> None:
    # Seed 001 §6.1: 7 days on the merits, 30 at most, claims on quality 3 working days.
    assert DEFAULT_POLICIES["complaint"] == Policy(7, 30, "calendar")
    assert DEFAULT_POLICIES["quality_claim"] == Policy(3, 30, "working")
    registered = local(2026, 12, 11, 12, 0)
    complaint = deadlines(registered, DEFAULT_POLICIES["complaint"], ALMATY, CALENDAR)
    assert complaint.due_at == local(2026, 12, 19)
    assert complaint.max_due_at == local(2027, 1, 11)
    # 5 working days for the outside-competence notice: 14, 15, 17, 18, 19 (Saturday worked).
    assert complaint.competence_due_at == local(2026, 12, 19, 18, 0)
    span = complaint.due_at - registered
    assert complaint.warning_at == registered + span * 0.7
    claim = deadlines(registered, DEFAULT_POLICIES["quality_claim"], ALMATY, CALENDAR)
    assert claim.due_at == local(2026, 12, 17, 18, 0)


def test_working_days_without_a_calendar_count_monday_to_friday() -> None:
    policy = Policy(2, 30, "working")
    got = deadlines(local(2026, 12, 11, 12, 0), policy, ALMATY, None)
    assert got.due_at == local(2026, 12, 15, 18, 0)


def test_clock_status() -> None:
    due, warning = local(2026, 12, 19), local(2026, 12, 17)
    assert clock_status(due, warning, None, warning - timedelta(seconds=1)) == "running"
    assert clock_status(due, warning, None, warning) == "warning"
    assert clock_status(due, warning, None, due) == "breached"
    assert clock_status(due, warning, due, due + timedelta(days=3)) == "met"
    assert clock_status(due, warning, due + timedelta(seconds=1), due) == "breached"


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Иванова Мария Петровна", "Мария Петровна"),
        ("Ахметов Нұрлан Серікұлы", "Нұрлан Серікұлы"),
        ("Ахметов Нұрлан Серік ұлы", "Нұрлан Серік ұлы"),
        ("Сәрсенбаева Айгүл Нұрланқызы", "Айгүл Нұрланқызы"),
        ("Aliya Nurlanova", "Aliya Nurlanova"),
        ("Mary Ann Smith", "Mary Ann Smith"),  # no patronymic: not read as surname first
        ("Иван Петрович", "Иван Петрович"),
        ("Мадина", "Мадина"),
    ],
)
def test_salutation_uses_name_and_patronymic(full_name: str, expected: str) -> None:
    assert salutation_name(full_name) == expected


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Иванова Мария Петровна", "female"),
        ("Кузнецова Анна Ильинична", "female"),
        ("Петров Иван Ильич", "male"),
        ("Иван Петрович", "male"),
        ("Ахметов Нұрлан Серікұлы", "male"),
        ("Ахметов Нұрлан Серік ұлы", "male"),
        ("Сәрсенбаева Айгүл Нұрланқызы", "female"),
        ("Ivanova Maria Petrovna", "female"),
        ("Mary Ann Smith", None),
        ("Мадина", None),
    ],
)
def test_salutation_gender_is_read_from_the_patronymic(
    full_name: str, expected: str | None
) -> None:
    assert salutation_gender(full_name) == expected
