"""The staff appeal pages print a day deadline as its last day, as the customer's pages do."""

from __future__ import annotations

from datetime import UTC, date, datetime

from service.staff.appeals_texts import due_day, last_day

ALMATY = "Asia/Almaty"  # UTC+05


def test_a_midnight_ends_the_day_before() -> None:
    # 11.12 00:00 in Almaty is the end of 10.12.
    assert last_day(datetime(2026, 12, 10, 19, 0, tzinfo=UTC), ALMATY) == date(2026, 12, 10)


def test_the_end_of_a_chosen_day_is_that_day() -> None:
    # 10.12 23:59 in Almaty: a measure or request due by the end of the 10th.
    assert last_day(datetime(2026, 12, 10, 18, 59, tzinfo=UTC), ALMATY) == date(2026, 12, 10)


def test_another_time_is_not_a_day_deadline() -> None:
    assert last_day(datetime(2026, 12, 7, 15, 18, tzinfo=UTC), ALMATY) is None
    # Midnight in UTC is 05:00 in Almaty: an instant there, not a day.
    assert last_day(datetime(2026, 12, 11, 0, 0, tzinfo=UTC), ALMATY) is None


def test_the_day_in_each_language() -> None:
    day = date(2026, 12, 10)
    assert (due_day(day, "ru"), due_day(day, "kk"), due_day(day, "en")) == (
        "10.12",
        "10.12",
        "10 Dec",
    )


def test_the_analysis_months_are_named_in_the_page_language() -> None:
    from service.staff.appeal_analysis_page import month_choices

    months = month_choices(date(2026, 12, 5), "", "ru")
    assert months[:2] == [("2026-12", "декабрь 2026"), ("2026-11", "ноябрь 2026")]
    assert len(months) == 24
    assert month_choices(date(2026, 12, 5), "", "kk")[0] == ("2026-12", "2026 жылғы желтоқсан")
    # A month chosen by its link outside the list is listed, in its place; a bad one is not.
    old = month_choices(date(2026, 12, 5), "2001-02", "en")
    assert old[-1] == ("2001-02", "February 2001")
    assert len(month_choices(date(2026, 12, 5), "2026-13", "en")) == 24
