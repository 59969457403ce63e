"""The work-order state machine (pure)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a work order is in its life."""

    NEW = "new"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


ALLOWED: dict[Status, frozenset[Status]] = {
    # A visit booked schedules the order; hold or cancel are possible before work starts.
    Status.NEW: frozenset({Status.SCHEDULED, Status.ON_HOLD, Status.CANCELLED}),
    # Cancelling the only visit sends the order back to new; arrival starts the work.
    Status.SCHEDULED: frozenset({Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD, Status.CANCELLED}),
    # Work started is finished, paused (parts, access) or needs another visit.
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.ON_HOLD, Status.SCHEDULED}),
    Status.ON_HOLD: frozenset({Status.NEW, Status.SCHEDULED, Status.CANCELLED}),
    Status.COMPLETED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}

TERMINAL = frozenset(s for s, targets in ALLOWED.items() if not targets)

# Statuses a person sets by PATCH; the others follow visits (booking, arrival, completion).
MANUAL_TARGETS = frozenset({Status.ON_HOLD, Status.NEW, Status.CLOSED})


class TransitionRefused(Exception):
    """The state machine does not allow this move."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"A work order cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    """Whether ``current -> target`` is allowed."""
    return target in ALLOWED[current]


def transition(current: Status, target: Status) -> Status:
    """The new status, or TransitionRefused."""
    if not can_transition(current, target):
        raise TransitionRefused(current, target)
    return target
