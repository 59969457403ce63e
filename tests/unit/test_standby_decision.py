"""When a lag-tolerant read may use the hot standby, and which failures send it to the primary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from service.db.standby import StandbyState, decide, standby_failed

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def _state(**changes: object) -> StandbyState:
    values: dict[str, object] = {
        "in_recovery": True,
        "receiving": True,
        "caught_up": False,
        "now": NOW,
        "replayed_at": NOW - timedelta(seconds=4),
    }
    return StandbyState(**(values | changes))  # type: ignore[arg-type]


def test_a_standby_within_the_lag_answers_as_of_its_last_replayed_commit() -> None:
    decision = decide(_state(), max_lag_seconds=30)
    assert decision.use_standby
    assert (decision.reason, decision.as_of, decision.lag_seconds) == (
        "fresh",
        NOW - timedelta(seconds=4),
        4.0,
    )


def test_a_standby_further_behind_than_allowed_sends_the_read_to_the_primary() -> None:
    decision = decide(_state(replayed_at=NOW - timedelta(seconds=31)), max_lag_seconds=30)
    assert not decision.use_standby
    assert (decision.reason, decision.lag_seconds) == ("lagging", 31.0)
    # Exactly at the limit still answers.
    assert decide(_state(replayed_at=NOW - timedelta(seconds=30)), max_lag_seconds=30).use_standby


def test_a_caught_up_streaming_standby_is_as_of_now_however_old_the_last_commit() -> None:
    # An idle primary sends nothing: the last commit replayed may be hours old.
    state = _state(caught_up=True, replayed_at=NOW - timedelta(hours=5))
    decision = decide(state, max_lag_seconds=30)
    assert decision.use_standby
    assert (decision.as_of, decision.lag_seconds) == (NOW, 0.0)


def test_a_standby_cut_off_from_its_primary_ages_from_its_last_commit() -> None:
    # No WAL receiver: "replayed all it received" says nothing about the primary any more.
    state = _state(receiving=False, caught_up=True, replayed_at=NOW - timedelta(minutes=2))
    decision = decide(state, max_lag_seconds=30)
    assert not decision.use_standby
    assert (decision.reason, decision.lag_seconds) == ("lagging", 120.0)


def test_a_standby_that_has_replayed_nothing_yet_is_not_trusted() -> None:
    decision = decide(_state(receiving=False, replayed_at=None), max_lag_seconds=30)
    assert (decision.use_standby, decision.reason, decision.as_of) == (False, "unknown", None)


def test_a_server_not_in_recovery_is_as_of_now() -> None:
    # A promoted standby, or a read endpoint that takes writes itself.
    state = _state(in_recovery=False, receiving=False, replayed_at=None)
    decision = decide(state, max_lag_seconds=0)
    assert (decision.use_standby, decision.as_of, decision.lag_seconds) == (True, NOW, 0.0)


def test_a_clock_ahead_on_the_primary_is_no_negative_lag() -> None:
    decision = decide(_state(replayed_at=NOW + timedelta(seconds=2)), max_lag_seconds=30)
    assert decision.lag_seconds == 0.0


def _db_error(orig: Exception) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", None, orig)


class _Adapted(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the SQLSTATE as an attribute."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        sa_exc.TimeoutError("pool"),  # the small pool stayed busy
        _db_error(_Adapted("08006")),  # connection failure
        _db_error(_Adapted("57P03")),  # the standby is starting up
        _db_error(_Adapted("28P01")),  # wrong password for the standby
        _db_error(_Adapted("53300")),  # too many connections
        _db_error(_Adapted("40001")),  # cancelled: conflict with recovery
    ],
    ids=repr,
)
def test_the_standby_failing_sends_the_read_to_the_primary(error: BaseException) -> None:
    assert standby_failed(error)


@pytest.mark.parametrize(
    "error",
    [
        _db_error(_Adapted("25006")),  # a write on a read-only transaction: a bug, not lag
        _db_error(_Adapted("42P01")),  # an unknown table: a bug
        _db_error(_Adapted("22012")),
        asyncpg.DataError("bad"),
        KeyError("figure"),
    ],
    ids=repr,
)
def test_a_fault_of_the_read_itself_is_not_hidden_by_the_primary(error: BaseException) -> None:
    assert not standby_failed(error)
