"""The visit state machine: every allowed and every forbidden transition, and its vocabulary."""

from __future__ import annotations

import itertools

import pytest

from service.db.models.visits import LIVE_STATUSES, VISIT_STATUSES
from service.orders.visit_lifecycle import (
    LIVE,
    OUTCOMES,
    TERMINAL,
    VisitStatus,
    VisitTransitionRefused,
    can_transition,
    transition,
)

ENDINGS = {
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
}
EXPECTED = (
    {
        ("planned", "en_route"),
        ("planned", "on_site"),
        ("planned", "no_access"),
        ("planned", "cancelled"),
        ("en_route", "en_route"),
        ("en_route", "on_site"),
        ("en_route", "cancelled"),
    }
    | {("en_route", ending) for ending in ENDINGS}
    | {("on_site", ending) for ending in ENDINGS}
)
PAIRS = list(itertools.product(VisitStatus, VisitStatus))


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=lambda s: s.value)
def test_transition_table(current: VisitStatus, target: VisitStatus) -> None:
    allowed = (current.value, target.value) in EXPECTED
    assert can_transition(current.value, target.value) is allowed
    if allowed:
        assert transition(current.value, target.value) is target
    else:
        with pytest.raises(VisitTransitionRefused) as refused:
            transition(current.value, target.value)
        assert (refused.value.current, refused.value.target) == (current, target)
        assert str(refused.value) == f"A visit cannot go from {current} to {target}"


def test_an_ended_or_cancelled_visit_goes_nowhere() -> None:
    assert {status.value for status in TERMINAL} == ENDINGS | {"cancelled"}
    assert {status.value for status in OUTCOMES} == ENDINGS


def test_the_machine_speaks_the_database_vocabulary() -> None:
    # The column's check constraint and the live-visit queries use the model's tuples.
    assert [status.value for status in VisitStatus] == list(VISIT_STATUSES)
    assert {status.value for status in LIVE} == set(LIVE_STATUSES)


def test_an_unknown_status_is_not_a_transition() -> None:
    with pytest.raises(ValueError, match="teleported"):
        transition("planned", "teleported")
