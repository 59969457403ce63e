"""Holidays as the `holidays` library gives them, plus Russia's pre-holiday hour (no database)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_library

from service.sla.calendar import Period, WorkingCalendar, make_week
from service.sla.holiday_sources import LibraryDay, library_days


def _by_day(country: str, year: int) -> dict[date, LibraryDay]:
    return {d.day: d for d in library_days(country, year)}


def test_russia_2027_has_the_three_government_transfers() -> None:
    days = _by_day("RU", 2027)
    # Decree for 2027: 20 Feb (Sat) is worked for a day off on 22 Feb; 2 and 3 January's days
    # off move to 5 November and 31 December. The hand-kept seed had 22 Feb and 31 Dec as
    # shortened working days and 5 November as a working day.
    for moved in (date(2027, 2, 22), date(2027, 11, 5), date(2027, 12, 31)):
        assert days[moved].kind == "holiday", moved
        assert moved in holiday_library.country_holidays("RU", years=2027)
    assert days[date(2027, 2, 20)].kind == "working_day_transfer"
    assert date(2027, 2, 20) in holiday_library.country_holidays("RU", years=2027).weekend_workdays


def test_russia_pre_holiday_days_are_one_hour_short() -> None:
    short_2026 = {
        d.day: d.shorten_minutes for d in library_days("RU", 2026) if d.kind == "short_day"
    }
    assert short_2026 == {
        date(2026, 4, 30): 60,
        date(2026, 5, 8): 60,
        date(2026, 6, 11): 60,
        date(2026, 11, 3): 60,
    }
    short_2027 = {d.day for d in library_days("RU", 2027) if d.kind == "short_day"}
    # Not 22 Feb or 31 Dec (days off now); not a day before a moved day off (4 Nov is a holiday).
    assert short_2027 == {date(2027, 4, 30), date(2027, 6, 11), date(2027, 11, 3)}


def test_kazakhstan_constitution_day_moves_to_15_march_from_2027() -> None:
    days_2027 = _by_day("KZ", 2027)
    library = holiday_library.country_holidays("KZ", years=2027, language="en_US")
    assert library.get(date(2027, 3, 15)) == "Constitution Day"
    assert days_2027[date(2027, 3, 15)].kind == "holiday"
    assert date(2027, 8, 30) not in days_2027
    # Kazakhstan has no pre-holiday hour and no worked weekends in 2027.
    assert {d.kind for d in days_2027.values()} == {"holiday"}


def test_kazakhstan_days_off_in_lieu_are_holidays() -> None:
    days = _by_day("KZ", 2026)
    assert [d for d in days if date(2026, 3, 21) <= d <= date(2026, 3, 25)] == [
        date(2026, 3, 21) + timedelta(days=n) for n in range(5)
    ]
    assert days[date(2026, 3, 24)].name.startswith("Наурыз")


def test_a_library_year_drives_business_time_through_the_transfers() -> None:
    days = library_days("RU", 2027)
    calendar = WorkingCalendar(
        zone=ZoneInfo("Europe/Moscow"),
        week=make_week((d, Period.of("09:00", "18:00")) for d in range(5)),
        holidays=frozenset(d.day for d in days if d.kind == "holiday"),
        shortened={d.day: d.shorten_minutes for d in days if d.shorten_minutes},
        working_days=frozenset(d.day for d in days if d.kind == "working_day_transfer"),
    )
    moscow = ZoneInfo("Europe/Moscow")
    friday_evening = datetime.combine(date(2027, 2, 19), time(17), moscow)
    # One working hour on Friday, then the worked Saturday 20 Feb; 22 and 23 Feb are off.
    assert calendar.add(friday_evening, timedelta(hours=2)) == datetime.combine(
        date(2027, 2, 20), time(10), moscow
    )
    assert calendar.add(friday_evening, timedelta(hours=11)) == datetime.combine(
        date(2027, 2, 24), time(10), moscow
    )
