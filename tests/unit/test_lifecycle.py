"""The work-order state machine: every allowed and every forbidden transition."""

from __future__ import annotations

import itertools

import pytest

from service.orders.lifecycle import ALLOWED, TERMINAL, Status, TransitionRefused, transition

EXPECTED = {
    ("new", "scheduled"),
    ("new", "on_hold"),
    ("new", "cancelled"),
    ("scheduled", "new"),
    ("scheduled", "in_progress"),
    ("scheduled", "on_hold"),
    ("scheduled", "cancelled"),
    ("in_progress", "completed"),
    ("in_progress", "on_hold"),
    ("in_progress", "scheduled"),
    ("on_hold", "new"),
    ("on_hold", "scheduled"),
    ("on_hold", "cancelled"),
    ("completed", "closed"),
}
PAIRS = list(itertools.product(Status, Status))


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=lambda s: s.value)
def test_transition_matrix(current: Status, target: Status) -> None:
    if (current.value, target.value) in EXPECTED:
        assert transition(current, target) is target
    else:
        with pytest.raises(TransitionRefused) as refused:
            transition(current, target)
        assert current.value in str(refused.value)
        assert target.value in str(refused.value)


def test_every_status_has_a_rule() -> None:
    assert set(ALLOWED) == set(Status)


def test_terminal_statuses() -> None:
    assert {Status.CLOSED, Status.CANCELLED} == TERMINAL


def test_no_self_transitions() -> None:
    assert all(status not in targets for status, targets in ALLOWED.items())
