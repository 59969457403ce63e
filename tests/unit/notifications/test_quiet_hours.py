"""Quiet hours: working days 09:00-18:00 local time unless the customer agreed another window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.notifications.quiet_hours import (
    NOTICE_LEAD,
    AgreedWindow,
    earliest_send_time,
    is_allowed_now,
    send_before,
)

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5
BARNAUL = ZoneInfo("Asia/Barnaul")  # UTC+7
ZONES = ["Asia/Almaty", "Asia/Barnaul", "Europe/Moscow", "Europe/Berlin", "America/New_York"]


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A local wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# 2026-11-16 is a Monday; 2026-11-20 a Friday.


def test_inside_working_hours_goes_now() -> None:
    now = local(ALMATY, 2026, 11, 18, 10, 0)
    assert earliest_send_time(now, "Asia/Almaty") == now
    assert earliest_send_time(now, ALMATY).tzinfo is UTC


def test_17_59_goes_now_but_18_00_waits_for_the_next_morning() -> None:
    at_1759 = local(ALMATY, 2026, 11, 18, 17, 59)
    at_1800 = local(ALMATY, 2026, 11, 18, 18, 0)
    assert earliest_send_time(at_1759, ALMATY) == at_1759
    assert earliest_send_time(at_1800, ALMATY) == local(ALMATY, 2026, 11, 19, 9, 0)
    assert earliest_send_time(at_1800, ALMATY) == datetime(2026, 11, 19, 4, 0, tzinfo=UTC)


def test_early_morning_waits_until_nine_the_same_day() -> None:
    now = local(ALMATY, 2026, 11, 17, 7, 30)
    assert earliest_send_time(now, ALMATY) == local(ALMATY, 2026, 11, 17, 9, 0)
    assert earliest_send_time(local(ALMATY, 2026, 11, 17, 9, 0), ALMATY) == local(
        ALMATY, 2026, 11, 17, 9, 0
    )


def test_friday_evening_and_the_weekend_move_to_monday_nine() -> None:
    monday_nine = local(ALMATY, 2026, 11, 23, 9, 0)
    for now in (
        local(ALMATY, 2026, 11, 20, 19, 0),  # Friday evening
        local(ALMATY, 2026, 11, 21, 12, 0),  # Saturday noon
        local(ALMATY, 2026, 11, 22, 23, 59),  # Sunday night
    ):
        assert earliest_send_time(now, ALMATY) == monday_nine


def test_the_same_instant_is_judged_in_each_recipients_zone() -> None:
    instant = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)  # 15:30 Almaty, 17:30 Barnaul
    assert earliest_send_time(instant, "Asia/Almaty") == instant
    assert earliest_send_time(instant, "Asia/Barnaul") == instant
    later = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # 16:00 Almaty, 18:00 Barnaul
    assert earliest_send_time(later, "Asia/Almaty") == later
    assert earliest_send_time(later, "Asia/Barnaul") == local(BARNAUL, 2026, 11, 19, 9, 0)
    assert earliest_send_time(later, "Asia/Barnaul") == datetime(2026, 11, 19, 2, 0, tzinfo=UTC)


def test_public_holidays_are_skipped() -> None:
    friday_evening = local(ALMATY, 2026, 11, 20, 19, 0)
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    assert earliest_send_time(friday_evening, ALMATY, holidays={monday}) == local(
        ALMATY, 2026, 11, 24, 9, 0
    )
    assert earliest_send_time(friday_evening, ALMATY, holidays={monday, tuesday}) == local(
        ALMATY, 2026, 11, 25, 9, 0
    )
    during_holiday = local(ALMATY, 2026, 11, 23, 11, 0)
    assert not is_allowed_now(during_holiday, ALMATY, holidays={monday})
    assert is_allowed_now(during_holiday, ALMATY)


def test_customer_agreed_window_overrides_working_hours_weekends_and_holidays() -> None:
    evenings = AgreedWindow(start=time(19, 0), end=time(21, 0))
    saturday_20 = local(ALMATY, 2026, 11, 21, 20, 0)
    assert earliest_send_time(saturday_20, ALMATY, agreed=evenings) == saturday_20
    assert earliest_send_time(
        local(ALMATY, 2026, 11, 21, 21, 30), ALMATY, agreed=evenings
    ) == local(ALMATY, 2026, 11, 22, 19, 0)
    # Inside working hours but outside the agreed window: wait for the agreed window.
    assert earliest_send_time(local(ALMATY, 2026, 11, 18, 10, 0), ALMATY, agreed=evenings) == local(
        ALMATY, 2026, 11, 18, 19, 0
    )
    holiday = local(ALMATY, 2026, 11, 23, 20, 0)
    assert earliest_send_time(holiday, ALMATY, agreed=evenings, holidays={holiday.date()}) == (
        holiday
    )
    saturdays = AgreedWindow(start=time(11, 0), end=time(13, 0), weekdays=(5,))
    assert earliest_send_time(local(ALMATY, 2026, 11, 18, 12, 0), ALMATY, agreed=saturdays) == (
        local(ALMATY, 2026, 11, 21, 11, 0)
    )


def test_agreed_window_must_be_sensible() -> None:
    with pytest.raises(ValueError, match="after its start"):
        AgreedWindow(start=time(21, 0), end=time(19, 0))
    with pytest.raises(ValueError, match="weekdays"):
        AgreedWindow(start=time(9, 0), end=time(10, 0), weekdays=())
    with pytest.raises(ValueError, match="weekdays"):
        AgreedWindow(start=time(9, 0), end=time(10, 0), weekdays=(7,))


def test_urgent_goes_at_once_even_on_sunday_night() -> None:
    sunday_night = local(ALMATY, 2026, 11, 22, 3, 0)
    assert earliest_send_time(sunday_night, ALMATY, urgent=True) == sunday_night


def test_a_deadline_before_the_next_window_sends_at_once() -> None:
    friday_evening = local(ALMATY, 2026, 11, 20, 19, 0)
    saturday_visit = local(ALMATY, 2026, 11, 21, 10, 0)
    assert earliest_send_time(friday_evening, ALMATY, deadline=saturday_visit) == friday_evening
    tuesday_visit = local(ALMATY, 2026, 11, 24, 10, 0)
    assert earliest_send_time(friday_evening, ALMATY, deadline=tuesday_visit) == local(
        ALMATY, 2026, 11, 23, 9, 0
    )


def test_naive_times_and_impossible_calendars_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        earliest_send_time(datetime(2026, 11, 18, 10, 0), ALMATY)
    now = local(ALMATY, 2026, 11, 18, 19, 0)
    every_day = {now.date() + timedelta(days=n) for n in range(500)}
    with pytest.raises(ValueError, match="no allowed sending time"):
        earliest_send_time(now, ALMATY, holidays=every_day)


def test_daylight_saving_zone_uses_local_nine() -> None:
    # Europe/Berlin moves to summer time on 2026-03-29 (Sunday): Monday 09:00 is UTC+2.
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert earliest_send_time(saturday, "Europe/Berlin") == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(
    now=moments,
    zone_name=st.sampled_from(ZONES),
    holiday_offsets=st.sets(st.integers(min_value=0, max_value=20), max_size=8),
)
def test_property_working_hours(now: datetime, zone_name: str, holiday_offsets: set[int]) -> None:
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    holidays = {today + timedelta(days=n) for n in holiday_offsets}
    result = earliest_send_time(now, zone_name, holidays=holidays)
    assert result >= now
    sent_local = result.astimezone(zone)
    assert sent_local.weekday() < 5
    assert sent_local.date() not in holidays
    assert time(9, 0) <= sent_local.time() < time(18, 0)
    if result > now:
        # Nothing allowed was skipped: the message goes at the opening of the first open day.
        assert sent_local.time() == time(9, 0)
        day = today
        while day < sent_local.date():
            closes = datetime.combine(day, time(18, 0), tzinfo=zone)
            assert day.weekday() >= 5 or day in holidays or closes <= now
            day += timedelta(days=1)
    assert earliest_send_time(now, zone_name, urgent=True, holidays=holidays) == now


@settings(max_examples=200, deadline=None)
@given(
    now=moments,
    zone_name=st.sampled_from(ZONES),
    start_hour=st.integers(min_value=0, max_value=22),
    length=st.integers(min_value=1, max_value=8),
    weekdays=st.sets(st.integers(min_value=0, max_value=6), min_size=1),
)
def test_property_agreed_window(
    now: datetime, zone_name: str, start_hour: int, length: int, weekdays: set[int]
) -> None:
    end_hour = min(start_hour + length, 23)
    window = AgreedWindow(
        start=time(start_hour), end=time(end_hour, 59), weekdays=tuple(sorted(weekdays))
    )
    result = earliest_send_time(now, zone_name, agreed=window)
    assert result >= now
    assert result - now <= timedelta(days=8)
    sent_local = result.astimezone(ZoneInfo(zone_name))
    assert sent_local.weekday() in weekdays
    assert window.start <= sent_local.time() < window.end


# -- visit notices are never held past the visit ------------------------------------------
# 2026-11-20 is a Friday, 2026-11-23 the Monday after.


def test_friday_evening_booking_for_monday_nine_goes_on_friday_evening() -> None:
    booked = local(ALMATY, 2026, 11, 20, 19, 8)
    monday_nine = local(ALMATY, 2026, 11, 23, 9, 0)
    sent = earliest_send_time(booked, ALMATY, deadline=monday_nine)
    # Not Monday 09:00, the minute the visit starts: at once, on Friday evening.
    assert sent == booked
    assert sent < monday_nine - NOTICE_LEAD


def test_late_friday_booking_for_monday_nine_waits_for_saturday_morning() -> None:
    booked = local(ALMATY, 2026, 11, 20, 22, 30)
    monday_nine = local(ALMATY, 2026, 11, 23, 9, 0)
    assert earliest_send_time(booked, ALMATY, deadline=monday_nine) == local(
        ALMATY, 2026, 11, 21, 9, 0
    )


def test_at_night_only_a_visit_early_next_morning_wakes_the_customer() -> None:
    night = local(ALMATY, 2026, 11, 18, 23, 0)
    # Before (or within the lead of) 09:00 the next morning: at once.
    for early in (local(ALMATY, 2026, 11, 19, 8, 0), local(ALMATY, 2026, 11, 19, 9, 30)):
        assert earliest_send_time(night, ALMATY, deadline=early) == night
    # Later that morning: 09:00, still well before the visit.
    later = local(ALMATY, 2026, 11, 19, 11, 0)
    assert earliest_send_time(night, ALMATY, deadline=later) == local(ALMATY, 2026, 11, 19, 9, 0)
    # A visit days ahead waits for working hours as any message does.
    assert earliest_send_time(night, ALMATY, deadline=local(ALMATY, 2026, 11, 20, 15, 0)) == local(
        ALMATY, 2026, 11, 19, 9, 0
    )


def test_a_visit_in_the_evening_after_working_hours_is_told_the_same_day() -> None:
    # Working hours end at 18:00 but the visit is at 19:30: the notice goes now, not tomorrow.
    booked = local(ALMATY, 2026, 11, 18, 18, 30)
    visit = local(ALMATY, 2026, 11, 18, 19, 30)
    assert earliest_send_time(booked, ALMATY, deadline=visit) == booked


def test_send_before_a_deadline_already_past_goes_at_once() -> None:
    night = local(ALMATY, 2026, 11, 18, 2, 0)
    assert send_before(night, ALMATY, night - timedelta(hours=1)) == night


@settings(max_examples=300, deadline=None)
@given(
    now=moments,
    zone_name=st.sampled_from(ZONES),
    ahead_minutes=st.integers(min_value=0, max_value=10 * 24 * 60),
)
def test_property_a_visit_notice_arrives_before_the_visit(
    now: datetime, zone_name: str, ahead_minutes: int
) -> None:
    zone = ZoneInfo(zone_name)
    visit = now + timedelta(minutes=ahead_minutes)
    sent = earliest_send_time(now, zone_name, deadline=visit)
    assert sent >= now
    # Never at or after the visit unless there was no time at all; with time, a lead remains.
    if sent > now:
        assert sent <= visit - NOTICE_LEAD
    local_sent = sent.astimezone(zone).time()
    if not (time(9, 0) <= local_sent < time(21, 0)):
        # At night only at once, and only for a visit before ~09:00 the next morning.
        assert sent == now
        local_now = now.astimezone(zone)
        day = local_now.date() if local_now.time() < time(9) else local_now.date() + timedelta(1)
        morning = datetime.combine(day, time(9), tzinfo=zone)
        assert visit - NOTICE_LEAD < morning
