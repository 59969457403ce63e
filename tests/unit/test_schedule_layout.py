"""The schedule board's layout maths: block positions from times, hour and day ticks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.staff.schedule_layout import Axis, day_axis, placement_css, week_axis, week_start

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5, no daylight saving
BERLIN = ZoneInfo("Europe/Berlin")  # daylight saving: 2026-03-29 has 23 hours, 2026-10-25 has 25


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = ALMATY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


DAY = date(2026, 12, 4)


def test_default_day_axis_runs_from_eight_to_twenty_local() -> None:
    axis = day_axis(DAY, ALMATY)
    assert axis.start == datetime(2026, 12, 4, 3, tzinfo=UTC)
    assert axis.end == datetime(2026, 12, 4, 15, tzinfo=UTC)
    assert [t.label for t in axis.hour_ticks()][:3] == ["08:00", "09:00", "10:00"]
    assert len(axis.hour_ticks()) == 12


def test_a_visit_from_ten_to_twelve_sits_in_the_ten_and_eleven_columns() -> None:
    axis = day_axis(DAY, ALMATY)
    span = axis.span(local(DAY, 10), local(DAY, 12))
    assert span is not None
    assert span.left == pytest.approx(2 / 12 * 100)
    assert span.width == pytest.approx(2 / 12 * 100)
    assert span.style == "left:16.667%;width:16.667%"
    ticks = {t.label: t.left for t in axis.hour_ticks()}
    assert span.left == pytest.approx(ticks["10:00"])


def test_content_outside_the_default_hours_widens_the_axis_to_whole_hours() -> None:
    axis = day_axis(
        DAY, ALMATY, [(local(DAY, 6, 30), local(DAY, 7)), (local(DAY, 20), local(DAY, 21, 15))]
    )
    assert axis.start == local(DAY, 6)
    assert axis.end == local(DAY, 22)


def test_content_of_other_days_never_widens_past_the_local_day() -> None:
    yesterday = DAY - timedelta(days=1)
    absence = (local(yesterday, 9), local(DAY + timedelta(days=2), 9))
    axis = day_axis(DAY, ALMATY, [absence])
    assert axis.start == local(DAY, 0)
    assert axis.end == local(DAY + timedelta(days=1), 0)
    span = axis.span(*absence)
    assert span is not None
    assert span.left == 0
    assert span.width == 100


def test_spans_are_cut_to_the_axis_and_outside_ones_dropped() -> None:
    axis = day_axis(DAY, ALMATY)
    early = axis.span(local(DAY, 7), local(DAY, 9))
    assert early is not None
    assert early.left == 0
    assert early.width == pytest.approx(1 / 12 * 100)
    assert axis.span(local(DAY, 5), local(DAY, 8)) is None
    assert axis.span(local(DAY, 20), local(DAY, 21)) is None


def test_an_instant_is_a_zero_width_marker() -> None:
    axis = day_axis(DAY, ALMATY)
    marker = axis.span(local(DAY, 14), local(DAY, 14))
    assert marker is not None
    assert marker.width == 0
    assert marker.left == pytest.approx(50)


def test_a_span_ending_before_it_starts_is_an_error() -> None:
    axis = day_axis(DAY, ALMATY)
    with pytest.raises(ValueError, match="must not end before"):
        axis.span(local(DAY, 12), local(DAY, 11))
    with pytest.raises(ValueError, match="must end after"):
        Axis(start=local(DAY, 12), end=local(DAY, 12), zone=ALMATY)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)],
)
def test_a_whole_daylight_saving_day_has_one_tick_per_real_hour(day: date, hours: int) -> None:
    axis = day_axis(day, BERLIN, first_hour=0, last_hour=24)
    ticks = axis.hour_ticks()
    assert len(ticks) == hours
    assert ticks[0].label == "00:00"
    assert ticks[-1].label == "23:00"


def test_on_the_spring_forward_day_ten_o_clock_local_is_placed_by_real_time() -> None:
    day = date(2026, 3, 29)
    axis = day_axis(day, BERLIN, first_hour=0, last_hour=24)
    span = axis.span(local(day, 10, zone=BERLIN), local(day, 11, zone=BERLIN))
    assert span is not None
    # 00:00 -> 10:00 local is 9 real hours that day (02:00 does not exist).
    assert span.left == pytest.approx(9 / 23 * 100)


def test_week_axis_has_seven_local_days_starting_monday() -> None:
    monday = week_start(DAY)
    assert monday == date(2026, 11, 30)
    axis = week_axis(monday, ALMATY)
    ticks = axis.day_ticks()
    assert [t.label for t in ticks] == [(monday + timedelta(days=i)).isoformat() for i in range(7)]
    assert ticks[3].left == pytest.approx(3 / 7 * 100)
    span = axis.span(local(DAY, 12), local(DAY, 14))
    assert span is not None
    assert span.left == pytest.approx((4 + 12 / 24) / 7 * 100)


def test_a_span_maps_to_the_nearest_quarter_percent_classes() -> None:
    axis = day_axis(DAY, ALMATY)
    span = axis.span(local(DAY, 10), local(DAY, 12))
    assert span is not None
    assert span.classes == "pl-67 pw-67"  # 16.667% -> 66.67 quarter-percent steps
    full = axis.span(local(DAY, 8), local(DAY, 20))
    assert full is not None
    assert full.classes == "pl-0 pw-400"


def test_the_served_placement_stylesheet_is_the_generated_one() -> None:
    served = Path(__file__).parents[2] / "service/static/staff/schedule-placement.css"
    css = placement_css()
    assert served.read_text() == css
    assert ".pl-67{left:16.75%}" in css
    assert ".pw-400{width:100%}" in css
