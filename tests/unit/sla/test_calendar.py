"""Business-time arithmetic: weekends, holidays, shortened and transferred days, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.sla.calendar import (
    CalendarError,
    CalendarTime,
    Period,
    WorkingCalendar,
    make_week,
)

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5 all year
BARNAUL = ZoneInfo("Asia/Barnaul")  # UTC+7 all year
BERLIN = ZoneInfo("Europe/Berlin")  # with daylight saving
NINE_TO_SIX = make_week((d, Period.of("09:00", "18:00")) for d in range(5))

# Kazakhstan 2026-2027 days off that fall on working days (the seeded list, by hand).
KZ_DAYS_OFF = frozenset(
    date.fromisoformat(d)
    for d in [
        "2026-01-01",
        "2026-01-02",
        "2026-01-07",
        "2026-03-09",
        "2026-03-23",
        "2026-03-24",
        "2026-03-25",
        "2026-05-01",
        "2026-05-07",
        "2026-05-11",
        "2026-05-27",
        "2026-07-06",
        "2026-08-31",
        "2026-10-26",
        "2026-12-16",
        "2027-01-01",
        "2027-01-04",
        "2027-01-07",
        "2027-03-08",
        "2027-03-22",
        "2027-03-23",
        "2027-03-24",
    ]
)
# Russia: 1-9 January 2026 and the May, June and November holidays; shortened eves.
RU_DAYS_OFF = frozenset(
    [date(2026, 1, d) for d in range(1, 10)]
    + [date(2026, 2, 23), date(2026, 3, 9), date(2026, 5, 1), date(2026, 5, 11)]
    + [date(2026, 6, 12), date(2026, 11, 4), date(2026, 12, 31)]
)
RU_SHORT = {date(2026, 4, 30): 60, date(2026, 5, 8): 60, date(2026, 6, 11): 60}


def kz() -> WorkingCalendar:
    return WorkingCalendar(zone=ALMATY, week=NINE_TO_SIX, holidays=KZ_DAYS_OFF)


def ru(zone: ZoneInfo = BARNAUL) -> WorkingCalendar:
    return WorkingCalendar(zone=zone, week=NINE_TO_SIX, holidays=RU_DAYS_OFF, shortened=RU_SHORT)


def local(day: str, hour: int, minute: int = 0, zone: ZoneInfo = ALMATY) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=zone)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_friday_evening_rolls_over_the_weekend_and_a_monday_holiday() -> None:
    # 9 March 2026 is the day off for 8 March (a Sunday) in Kazakhstan.
    due = kz().add(local("2026-03-06", 17), minutes(120))
    assert due == local("2026-03-10", 10)
    assert due.tzinfo is UTC


def test_nauryz_takes_five_days_out() -> None:
    # Friday 20 March 12:00 + one working day: 21-22 weekend, 23-25 Nauryz (two transferred).
    assert kz().add(local("2026-03-20", 12), minutes(540)) == local("2026-03-26", 12)


def test_new_year_and_its_transferred_day_off() -> None:
    # 2 January 2027 is a Saturday; its day off moves to Monday 4 January.
    assert kz().add(local("2026-12-31", 16), minutes(180)) == local("2027-01-05", 10)


def test_independence_day() -> None:
    assert kz().add(local("2026-12-15", 17, 30), minutes(60)) == local("2026-12-17", 9, 30)


def test_russian_january_holidays_in_barnaul() -> None:
    start = local("2025-12-31", 17, zone=BARNAUL)
    assert ru().add(start, minutes(120)) == local("2026-01-12", 10, zone=BARNAUL)
    assert ru().elapsed(start, local("2026-01-12", 10, zone=BARNAUL)) == minutes(120)


def test_holiday_on_friday_after_a_shortened_thursday() -> None:
    # 30 April 2026 ends at 17:00 (pre-holiday hour); 1 May is a Friday holiday.
    start = local("2026-04-30", 16, 30, zone=BARNAUL)
    assert ru().add(start, minutes(30)) == local("2026-04-30", 17, zone=BARNAUL)
    assert ru().add(start, minutes(90)) == local("2026-05-04", 10, zone=BARNAUL)


def test_same_instant_in_almaty_and_barnaul() -> None:
    instant = datetime(2026, 3, 10, 11, 30, tzinfo=UTC)  # 16:30 in Almaty, 18:30 in Barnaul
    week_only = WorkingCalendar(zone=BARNAUL, week=NINE_TO_SIX)
    almaty = WorkingCalendar(zone=ALMATY, week=NINE_TO_SIX)
    assert almaty.add(instant, minutes(60)) == datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    assert week_only.add(instant, minutes(60)) == datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
    assert week_only.elapsed(instant, instant + timedelta(hours=17)) == minutes(150)


def test_transferred_working_saturday_and_a_lunch_break() -> None:
    week = make_week(
        [(d, Period.of("09:00", "13:00")) for d in range(5)]
        + [(d, Period.of("14:00", "18:00")) for d in range(5)]
    )
    calendar = WorkingCalendar(zone=ALMATY, week=week, working_days=frozenset({date(2026, 2, 28)}))
    # Friday 17:00 + 3 h: 1 h on Friday, then Saturday 28 February is worked from 09:00.
    assert calendar.add(local("2026-02-27", 17), minutes(180)) == local("2026-02-28", 11)
    # The lunch hour does not count.
    assert calendar.add(local("2026-03-02", 12), minutes(120)) == local("2026-03-02", 15)
    assert calendar.elapsed(local("2026-03-02", 12), local("2026-03-02", 15)) == minutes(120)


def test_end_of_day_is_inside_working_hours() -> None:
    # Exactly the rest of the day lands at 18:00, not at 09:00 the next working day.
    assert kz().add(local("2026-03-02", 16), minutes(120)) == local("2026-03-02", 18)


def test_outside_hours_start_counts_from_the_next_opening() -> None:
    assert kz().add(local("2026-03-02", 20), minutes(1)) == local("2026-03-03", 9, 1)
    assert kz().elapsed(local("2026-03-02", 20), local("2026-03-03", 8)) == timedelta(0)


def test_daylight_saving_day_has_23_hours() -> None:
    all_day = make_week((d, Period(0, 24 * 60)) for d in range(7))
    berlin = WorkingCalendar(zone=BERLIN, week=all_day)
    day = local("2026-03-29", 0, zone=BERLIN)
    assert berlin.elapsed(day, local("2026-03-30", 0, zone=BERLIN)) == timedelta(hours=23)


def test_shortening_can_swallow_a_whole_period() -> None:
    week = make_week([(0, Period.of("09:00", "13:00")), (0, Period.of("14:00", "15:00"))])
    calendar = WorkingCalendar(zone=ALMATY, week=week, shortened={date(2026, 3, 2): 90})
    assert calendar.local_periods(date(2026, 3, 2)) == (Period.of("09:00", "12:30"),)


def test_invalid_calendars_are_refused() -> None:
    with pytest.raises(CalendarError):
        WorkingCalendar(zone=ALMATY, week=make_week([]))
    with pytest.raises(ValueError, match="overlap"):
        make_week([(0, Period.of("09:00", "13:00")), (0, Period.of("12:00", "18:00"))])
    with pytest.raises(ValueError, match="bad working period"):
        Period.of("18:00", "09:00")
    with pytest.raises(CalendarError):
        WorkingCalendar(
            zone=ALMATY,
            week=NINE_TO_SIX,
            holidays=frozenset({date(2026, 3, 7)}),
            working_days=frozenset({date(2026, 3, 7)}),
        )
    with pytest.raises(ValueError, match="aware"):
        kz().add(datetime(2026, 3, 2, 9), minutes(1))
    with pytest.raises(ValueError, match="negative"):
        kz().add(local("2026-03-02", 9), minutes(-1))


def test_calendar_time_counts_everything() -> None:
    start = local("2026-03-07", 23)
    assert CalendarTime().add(start, minutes(90)) == start + minutes(90)
    assert CalendarTime().elapsed(start + minutes(5), start) == timedelta(0)


# -- properties ----------------------------------------------------------------------------

ZONES = [ALMATY, BARNAUL, ZoneInfo("Europe/Moscow"), BERLIN, ZoneInfo("America/New_York")]


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random weeks (up to two periods a day, quarter-hour edges) and random exceptions."""
    periods = []
    for weekday in range(7):
        edges = sorted(
            draw(
                st.sets(st.integers(0, 96), min_size=0, max_size=4).filter(
                    lambda s: len(s) % 2 == 0
                )
            )
        )
        periods += [
            (weekday, Period(edges[i] * 15, edges[i + 1] * 15)) for i in range(0, len(edges), 2)
        ]
    assume(periods)
    days = st.dates(date(2026, 1, 1), date(2027, 12, 31))
    holidays = draw(st.frozensets(days, max_size=40))
    working = draw(st.frozensets(days, max_size=10)) - holidays
    shortened = draw(st.dictionaries(days, st.integers(1, 240), max_size=10))
    return WorkingCalendar(
        zone=draw(st.sampled_from(ZONES)),
        week=make_week(periods),
        holidays=holidays,
        working_days=working,
        shortened=shortened,
    )


instants = st.datetimes(datetime(2026, 1, 1), datetime(2027, 6, 30), timezones=st.just(UTC))
amounts = st.integers(0, 6 * 24 * 60 * 60).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, amounts, amounts)
def test_adding_in_two_steps_is_adding_once(
    calendar: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    assert calendar.add(start, a + b) == calendar.add(calendar.add(start, a), b)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, amounts)
def test_elapsed_undoes_add(calendar: WorkingCalendar, start: datetime, amount: timedelta) -> None:
    assert calendar.elapsed(start, calendar.add(start, amount)) == amount


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, amounts.filter(bool))
def test_result_is_inside_working_hours(
    calendar: WorkingCalendar, start: datetime, amount: timedelta
) -> None:
    due = calendar.add(start, amount)
    assert due > start
    # Inside a period, or exactly at its end: the last counted microsecond is working time.
    assert calendar.is_working(due - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, amounts, amounts)
def test_add_is_monotonic(
    calendar: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    low, high = sorted((a, b))
    assert calendar.add(start, low) <= calendar.add(start, high)


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, amounts, amounts)
def test_elapsed_is_additive(
    calendar: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    middle = start + a
    end = middle + b
    assert calendar.elapsed(start, end) == calendar.elapsed(start, middle) + calendar.elapsed(
        middle, end
    )
    assert calendar.elapsed(start, end) <= end - start


def _migration() -> object:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[3] / "service/db/migrations/versions/0009_coordination.py"
    spec = importlib.util.spec_from_file_location("coordination_migration", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeded_holidays_agree_with_the_examples() -> None:
    migration: object = _migration()

    def seeded(rows: list[tuple[str, str, str, int]], zone: ZoneInfo) -> WorkingCalendar:
        return WorkingCalendar(
            zone=zone,
            week=NINE_TO_SIX,
            holidays=frozenset(date.fromisoformat(d) for d, _, k, _ in rows if k == "holiday"),
            shortened={date.fromisoformat(d): s for d, _, k, s in rows if k == "short_day"},
        )

    kz_seed = seeded(migration.KZ_DAYS, ALMATY)  # type: ignore[attr-defined]
    ru_seed = seeded(migration.RU_DAYS, BARNAUL)  # type: ignore[attr-defined]
    assert kz_seed.add(local("2026-03-20", 12), minutes(540)) == local("2026-03-26", 12)
    assert kz_seed.add(local("2026-12-31", 16), minutes(180)) == local("2027-01-05", 10)
    start = local("2025-12-31", 17, zone=BARNAUL)
    assert ru_seed.add(start, minutes(120)) == local("2026-01-12", 10, zone=BARNAUL)
    assert ru_seed.add(local("2026-04-30", 16, 30, zone=BARNAUL), minutes(90)) == local(
        "2026-05-04", 10, zone=BARNAUL
    )
    working_days_off = {d for d in kz_seed.holidays if d.weekday() < 5 and d.year == 2026}
    assert working_days_off == {d for d in KZ_DAYS_OFF if d.year == 2026}


def test_a_deadline_at_midnight_leaves_the_day_before_and_another_its_own() -> None:
    from service.sla.calendar import last_local_day

    almaty = ZoneInfo("Asia/Almaty")  # UTC+05
    # 00:00 on the 13th in Almaty ends the 12th; 23:59 and 18:00 end their own day.
    assert last_local_day(datetime(2026, 12, 12, 19, 0, tzinfo=UTC), almaty) == date(2026, 12, 12)
    assert last_local_day(datetime(2026, 12, 12, 18, 59, tzinfo=UTC), almaty) == date(2026, 12, 12)
    assert last_local_day(datetime(2026, 12, 12, 13, 0, tzinfo=UTC), almaty) == date(2026, 12, 12)
