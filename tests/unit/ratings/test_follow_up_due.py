"""A follow-up is due at the end of the N-th working day after the rating's day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.ratings.services import first_name, follow_up_due, follow_up_reasons
from service.sla.calendar import Period, WorkingCalendar, make_week

ALMATY = ZoneInfo("Asia/Almaty")
WEEK = make_week((day, Period.of("09:00", "18:00")) for day in range(5))


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ALMATY)


def test_friday_evening_is_due_tuesday_end_of_day() -> None:
    calendar = WorkingCalendar(zone=ALMATY, week=WEEK)
    due = follow_up_due(_local(2026, 3, 13, 21, 0), 2, calendar)  # a Friday
    assert due == _local(2026, 3, 17, 18, 0)


def test_holidays_do_not_count() -> None:
    calendar = WorkingCalendar(zone=ALMATY, week=WEEK, holidays=frozenset({date(2026, 3, 16)}))
    assert follow_up_due(_local(2026, 3, 13, 10, 0), 2, calendar) == _local(2026, 3, 18, 18, 0)


def test_without_a_calendar_it_is_24_hours_a_day() -> None:
    start = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
    assert follow_up_due(start, 2, None) == start + timedelta(hours=48)


def test_reasons() -> None:
    assert follow_up_reasons(5, {"id_shown": True, "area_clean": None}) == []
    assert follow_up_reasons(3, {}) == ["low_score"]
    assert follow_up_reasons(1, {"overshoes_on": False, "area_clean": False}) == [
        "low_score",
        "no_overshoes",
        "area_not_clean",
    ]


def test_first_name_of_a_surname_first_full_name() -> None:
    assert first_name("Нұрланова Әлия Қанатқызы") == "Әлия"
    assert first_name("Aidar") == "Aidar"
    assert first_name("") == ""
