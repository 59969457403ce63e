"""Which escalation levels a clock has reached, and the new date promised to the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.common.acknowledgement import ACK_COMMENT_MAX, clean_comment
from service.errors import ValidationFailed
from service.escalations.services import (
    BREACH,
    HEAD,
    WARNING,
    ClockView,
    EscalationPolicy,
    due_levels,
    new_control_date,
)
from service.settings import EscalationSettings, SettingsError, load_settings

DUE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WARN = DUE - timedelta(hours=2)
DELAY = timedelta(hours=4)


def clock(status: str = "running", **fields: object) -> ClockView:
    values: dict[str, object] = {"due_at": DUE, "warning_at": WARN, "stopped_at": None}
    values.update(fields)
    return ClockView(status=status, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (WARN - timedelta(minutes=1), ()),
        (WARN, (WARNING,)),
        (DUE - timedelta(seconds=1), (WARNING,)),
        (DUE, (BREACH,)),
        (DUE + DELAY - timedelta(seconds=1), (BREACH,)),
        (DUE + DELAY, (BREACH, HEAD)),
        (DUE + timedelta(days=10), (BREACH, HEAD)),
    ],
)
def test_levels_follow_the_clock(now: datetime, expected: tuple[str, ...]) -> None:
    assert due_levels(clock("warning"), now, DELAY) == expected


def test_stored_status_may_lag_the_times() -> None:
    # The refresh job has not flipped the row yet: the times decide.
    assert due_levels(clock("running"), DUE + timedelta(minutes=1), DELAY) == (BREACH,)
    assert due_levels(clock("breached"), DUE + DELAY, DELAY) == (BREACH, HEAD)


@pytest.mark.parametrize("status", ["paused", "met", "cancelled"])
def test_paused_and_settled_clocks_do_not_escalate(status: str) -> None:
    assert due_levels(clock(status), DUE + timedelta(days=1), DELAY) == ()


def test_a_breached_clock_that_stopped_does_not_escalate() -> None:
    stopped = clock("breached", stopped_at=DUE + timedelta(hours=1))
    assert due_levels(stopped, DUE + DELAY, DELAY) == ()


def test_a_clock_without_due_time_does_not_escalate() -> None:
    assert due_levels(clock(due_at=None, warning_at=None), DUE, DELAY) == ()


def test_a_clock_without_warning_time_escalates_at_breach_only() -> None:
    no_warning = clock(warning_at=None)
    assert due_levels(no_warning, DUE - timedelta(minutes=1), DELAY) == ()
    assert due_levels(no_warning, DUE, DELAY) == (BREACH,)


def test_the_head_delay_is_configurable() -> None:
    short = timedelta(minutes=30)
    assert due_levels(clock(), DUE + short, short) == (BREACH, HEAD)
    assert due_levels(clock(), DUE + short, DELAY) == (BREACH,)


def test_new_date_is_the_agreed_visits_end_when_one_is_ahead() -> None:
    now = DUE + timedelta(minutes=5)
    visit_end = now + timedelta(hours=3)
    assert new_control_date(now, visit_end, timedelta(hours=24), "UTC") == visit_end


def test_new_date_without_a_visit_is_the_extension_rounded_up_to_the_hour() -> None:
    now = datetime(2026, 3, 10, 12, 7, 30, tzinfo=UTC)
    assert new_control_date(now, None, timedelta(hours=24), "UTC") == datetime(
        2026, 3, 11, 13, 0, tzinfo=UTC
    )
    past_visit = now - timedelta(hours=1)
    assert new_control_date(now, past_visit, timedelta(hours=2), "UTC") == datetime(
        2026, 3, 10, 15, 0, tzinfo=UTC
    )
    whole = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert new_control_date(whole, None, timedelta(hours=1), "UTC") == whole + timedelta(hours=1)


def test_new_date_is_rounded_to_the_hour_of_the_territorys_zone() -> None:
    # Kolkata is UTC+05:30: its whole hours fall on the half hour in UTC.
    now = datetime(2026, 3, 10, 12, 7, 30, tzinfo=UTC)  # 17:37:30 in Kolkata
    promised = new_control_date(now, None, timedelta(hours=24), "Asia/Kolkata")
    assert promised == datetime(2026, 3, 11, 12, 30, tzinfo=UTC)  # 18:00 in Kolkata
    assert promised.astimezone(ZoneInfo("Asia/Kolkata")).minute == 0
    whole = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)  # 18:00 in Kolkata: already whole
    assert new_control_date(whole, None, timedelta(hours=1), "Asia/Kolkata") == whole + timedelta(
        hours=1
    )


def test_policy_from_settings() -> None:
    policy = EscalationPolicy.from_settings(
        EscalationSettings(head_delay_minutes=90, apology_extension_minutes=600)
    )
    assert policy.head_delay == timedelta(minutes=90)
    assert policy.apology_extension == timedelta(minutes=600)


def test_settings_read_the_head_delay_and_refuse_nonsense() -> None:
    assert load_settings({}).escalation.head_delay_minutes == 240
    env = {"NARYAD_ESCALATION_HEAD_DELAY_MINUTES": "30"}
    assert load_settings(env).escalation.head_delay_minutes == 30
    with pytest.raises(SettingsError, match="HEAD_DELAY"):
        load_settings({"NARYAD_ESCALATION_HEAD_DELAY_MINUTES": "0"})
    with pytest.raises(SettingsError, match="APOLOGY_EXTENSION"):
        load_settings({"NARYAD_ESCALATION_APOLOGY_EXTENSION_MINUTES": "5"})


@pytest.mark.parametrize("comment", ["", "   ", "\n\t ", None])
def test_a_blank_comment_is_refused(comment: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_comment(comment, ACK_COMMENT_MAX)
    assert caught.value.errors
    assert caught.value.errors[0].field == "comment"


def test_comment_is_trimmed_and_bounded() -> None:
    assert clean_comment("  called the customer  ", ACK_COMMENT_MAX) == "called the customer"
    assert clean_comment(" " + "x" * 2000 + " ", ACK_COMMENT_MAX) == "x" * 2000
    with pytest.raises(ValidationFailed):
        clean_comment("x" * 2001, ACK_COMMENT_MAX)
