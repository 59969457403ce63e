"""The analysis page's period: a month or a range of days on a territory's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.staff.appeal_analysis_page import PeriodRefused, analysis_period

ALMATY = ZoneInfo("Asia/Almaty")
# 31 December 20:00 UTC is already 1 January in Almaty (UTC+05).
NOW = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)


def test_the_default_is_this_month_on_the_territory_s_clock() -> None:
    period = analysis_period(None, None, None, ALMATY, NOW)
    assert period.month == "2027-01"
    assert (period.first, period.last) == (date(2027, 1, 1), date(2027, 1, 31))
    assert period.since == datetime(2027, 1, 1, tzinfo=ALMATY)
    assert period.until == datetime(2027, 2, 1, tzinfo=ALMATY)
    assert analysis_period(None, None, None, ZoneInfo("UTC"), NOW).month == "2026-12"


def test_a_month_and_a_range_of_days() -> None:
    february = analysis_period("2028-02", None, None, ALMATY, NOW)
    assert (february.first, february.last) == (date(2028, 2, 1), date(2028, 2, 29))
    assert february.until == datetime(2028, 3, 1, tzinfo=ALMATY)
    december = analysis_period("2026-12", None, None, ALMATY, NOW)
    assert december.until == datetime(2027, 1, 1, tzinfo=ALMATY)
    # A range wins over a month; both ends are whole days.
    days = analysis_period("2026-12", "05.12.2026", "2026-12-05", ALMATY, NOW)
    assert days.month is None
    assert days.since == datetime(2026, 12, 5, tzinfo=ALMATY)
    assert days.until == datetime(2026, 12, 6, tzinfo=ALMATY)


@pytest.mark.parametrize(
    ("month", "start", "end", "key"),
    [
        ("2026-13", None, None, "an.err.month"),
        ("2026-00", None, None, "an.err.month"),
        ("1999-12", None, None, "an.err.month"),
        ("2026-1", None, None, "an.err.month"),
        (None, "2026-12-10", "2026-12-01", "an.err.range"),
        (None, "2026-12-01", None, "an.err.range"),
        (None, None, "2026-12-01", "an.err.range"),
        (None, "2024-01-01", "2026-01-10", "an.err.range"),
        (None, "1999-12-31", "2000-01-02", "an.err.range"),
        (None, "32.12.2026", "2026-12-06", "an.err.range"),
        (None, "2026-12-01", "tomorrow", "an.err.range"),
    ],
)
def test_refused_periods_name_their_text(
    month: str | None, start: str | None, end: str | None, key: str
) -> None:
    with pytest.raises(PeriodRefused) as refused:
        analysis_period(month, start, end, ALMATY, NOW)
    assert refused.value.key == key
