"""Pure scheduling logic: travel, shifts across time zones, slot grid, feasibility, ranking."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.scheduling import planning
from service.scheduling.planning import (
    BookedVisit,
    Fit,
    Interval,
    PlannedStop,
    TechnicianDay,
    TravelModel,
)

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5
BARNAUL = ZoneInfo("Asia/Barnaul")  # UTC+7
MONDAY = date(2031, 3, 3)
WEEKDAYS = [(d, time(9), time(18)) for d in range(5)]


def at(hour: float, zone: ZoneInfo = ALMATY, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hour)


def window(start: float, end: float) -> Interval:
    return Interval(at(start), at(end))


def day_with(*visits: BookedVisit, capacity: int = 6, home_m: float = 5_000) -> TechnicianDay:
    return TechnicianDay(
        technician_id="t1",
        shifts=planning.shift_intervals(MONDAY, ALMATY, WEEKDAYS),
        absences=[],
        visits=list(visits),
        capacity=capacity,
        home_to_target_m=home_m,
    )


def booked(start: float, end: float, metres: float = 2_000, service_min: int = 60) -> BookedVisit:
    return BookedVisit(window(start, end), timedelta(minutes=service_min), metres, metres)


def test_travel_time_is_distance_times_detour_over_speed() -> None:
    model = TravelModel(speed_kmh=30, detour_factor=1.4)
    assert model.minutes(10_000) == pytest.approx(28)
    assert model.duration(10_001) == timedelta(minutes=29)  # rounded up
    assert TravelModel(speed_kmh=60, detour_factor=1.0).duration(0) == timedelta(0)


def test_shifts_are_local_to_the_technicians_zone() -> None:
    almaty = planning.shift_intervals(MONDAY, ALMATY, WEEKDAYS)
    barnaul = planning.shift_intervals(MONDAY, BARNAUL, WEEKDAYS)
    assert almaty[0].start.astimezone(UTC).hour == 4
    assert barnaul[0].start.astimezone(UTC).hour == 2
    assert planning.shift_intervals(date(2031, 3, 8), ALMATY, WEEKDAYS) == []  # Saturday


def test_shifts_survive_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    sunday_change = date(2031, 3, 30)
    (shift,) = planning.shift_intervals(sunday_change, berlin, [(6, time(1), time(5))])
    assert shift.end - shift.start == timedelta(hours=3)  # 02:00-03:00 does not exist that day


def test_slot_grid_starts_at_the_first_whole_hour_and_stays_inside() -> None:
    shift = Interval(at(8.5), at(18))
    grid = planning.slot_grid([shift], timedelta(hours=2), timedelta(hours=2), ALMATY)
    local = [(w.start.astimezone(ALMATY).hour, w.end.astimezone(ALMATY).hour) for w in grid]
    assert local == [(9, 11), (11, 13), (13, 15), (15, 17)]


def test_fits_with_arrival_at_window_start_when_close() -> None:
    fit = planning.evaluate(day_with(), window(10, 12), timedelta(hours=1), not_before=at(0))
    assert isinstance(fit, Fit)
    assert fit.arrival == at(10)
    assert fit.load == 0


def test_first_visit_needs_travel_from_home() -> None:
    far_home = day_with(home_m=30_000)  # 84 min at 30 km/h x 1.4
    result = planning.evaluate(far_home, window(9, 11), timedelta(hours=1), not_before=at(0))
    assert isinstance(result, Fit)
    assert result.arrival == at(9) + timedelta(minutes=84)
    assert (
        planning.evaluate(
            day_with(home_m=60_000), window(9, 11), timedelta(hours=1), not_before=at(0)
        )
        == planning.UNREACHABLE
    )


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (window(7, 9), planning.OUTSIDE_SHIFT),
        (window(17, 19), planning.OUTSIDE_SHIFT),
        (window(10.5, 12.5), "overlaps_visit"),
    ],
)
def test_refusals(candidate: Interval, reason: str) -> None:
    day = day_with(booked(10, 12))
    assert planning.evaluate(day, candidate, timedelta(hours=1), not_before=at(0)) == reason


def test_window_ending_exactly_at_shift_end_fits() -> None:
    assert isinstance(
        planning.evaluate(day_with(), window(16, 18), timedelta(minutes=30), not_before=at(0)), Fit
    )


def test_past_absence_and_capacity() -> None:
    assert (
        planning.evaluate(day_with(), window(10, 12), timedelta(hours=1), not_before=at(10.5))
        == planning.IN_PAST
    )
    absent = TechnicianDay("t1", [Interval(at(9), at(18))], [Interval(at(0), at(24))], [], 6, 0)
    assert (
        planning.evaluate(absent, window(10, 12), timedelta(hours=1), not_before=at(0))
        == planning.ABSENT
    )
    full = day_with(booked(9, 10), booked(14, 16), capacity=2)
    assert (
        planning.evaluate(full, window(11, 13), timedelta(hours=1), not_before=at(0))
        == planning.CAPACITY
    )


def test_previous_visit_far_away_makes_the_window_unreachable() -> None:
    # Previous visit starts 09:00, takes 60 min; the target is 40 km away (112 min): 11:52.
    day = day_with(booked(9, 10, metres=40_000))
    assert (
        planning.evaluate(day, window(10, 11.5), timedelta(hours=1), not_before=at(0))
        == planning.UNREACHABLE
    )
    fit = planning.evaluate(day, window(11, 13), timedelta(hours=1), not_before=at(0))
    assert isinstance(fit, Fit)
    assert fit.arrival == at(11) + timedelta(minutes=52)


def test_next_visit_would_be_missed() -> None:
    # New visit 10-12 (arrive 10:00, work 90 min, leave 11:30); next visit is 30 km away
    # (84 min) and its window ends 12:30: arriving 12:54 is too late.
    day = day_with(booked(12, 12.5, metres=30_000))
    assert (
        planning.evaluate(day, window(10, 12), timedelta(minutes=90), not_before=at(0))
        == planning.NEXT_AT_RISK
    )


def test_ignore_overlaps_leaves_overlap_to_the_database() -> None:
    day = day_with(booked(10, 12))
    fit = planning.evaluate(
        day, window(11, 13), timedelta(hours=1), not_before=at(0), ignore_overlaps=True
    )
    assert isinstance(fit, Fit)


def test_rank_prefers_short_travel_then_light_days() -> None:
    def fit(name: str, minutes: int, load: int) -> Fit:
        return Fit(name, window(10, 12), at(10), minutes, minutes * 500.0, load)

    ranked = planning.rank([fit("far", 40, 0), fit("near-busy", 5, 3), fit("near", 5, 0)])
    assert [f.technician_id for f in ranked] == ["near", "far", "near-busy"]


def test_day_prediction_chains_visits_and_flags_lateness() -> None:
    stops = [
        PlannedStop(window(9, 11), timedelta(hours=2), 5_000),
        PlannedStop(window(11, 12), timedelta(hours=1), 20_000),  # 56 min after 11:00
        PlannedStop(window(14, 16), timedelta(hours=1), 1_000),
    ]
    predicted = planning.predict_day(stops, at(9), TravelModel(), now=at(0))
    assert [p.arrival for p in predicted] == [
        at(9) + timedelta(minutes=14),
        at(11) + timedelta(minutes=14 + 56),
        at(14),
    ]
    assert [p.late for p in predicted] == [False, True, False]


def test_reported_eta_and_actual_arrival_replace_estimates() -> None:
    stops = [
        PlannedStop(
            window(9, 11), timedelta(hours=1), 5_000, arrived_at=at(9.5), finished_at=at(10)
        ),
        PlannedStop(window(10, 12), timedelta(hours=1), 5_000, reported_eta=at(12.25)),
    ]
    predicted = planning.predict_day(stops, at(9), TravelModel(), now=at(10))
    assert predicted[0].arrival == at(9.5)
    assert predicted[1].arrival == at(12.25)
    assert predicted[1].late


@given(
    start=st.integers(min_value=0, max_value=23 * 4),
    length=st.integers(min_value=1, max_value=16),
    metres=st.floats(min_value=0, max_value=80_000),
)
def test_a_fit_always_arrives_inside_its_window_and_shift(
    start: int, length: int, metres: float
) -> None:
    candidate = Interval(at(start / 4), at(start / 4 + length / 4))
    result = planning.evaluate(
        day_with(booked(12, 13, metres=metres)), candidate, timedelta(minutes=45), not_before=at(0)
    )
    if isinstance(result, Fit):
        assert candidate.start <= result.arrival < candidate.end
        assert at(9) <= candidate.start
        assert candidate.end <= at(18)
        assert not candidate.overlaps(window(12, 13))
