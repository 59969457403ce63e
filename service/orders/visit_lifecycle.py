"""The visit state machine (pure): which status a visit may move to from which.

It sits in orders/, below scheduling/ and execution/, because cancelling an order cancels its
visits; every package that moves a visit goes through ``transition``.
"""

from __future__ import annotations

from enum import StrEnum


class VisitStatus(StrEnum):
    """Where a visit is in its life."""

    PLANNED = "planned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    NO_ACCESS = "no_access"
    WAITING_FOR_ADULT = "waiting_for_adult"
    ABORTED_SAFETY = "aborted_safety"
    NEEDS_REVISIT = "needs_revisit"
    CUSTOMER_REFUSED_TO_SIGN = "customer_refused_to_sign"
    CANCELLED = "cancelled"


# The ways a technician ends a visit (the phone's outcome operation).
OUTCOMES = frozenset(
    {
        VisitStatus.COMPLETED,
        VisitStatus.NO_ACCESS,
        VisitStatus.WAITING_FOR_ADULT,
        VisitStatus.ABORTED_SAFETY,
        VisitStatus.NEEDS_REVISIT,
        VisitStatus.CUSTOMER_REFUSED_TO_SIGN,
    }
)

ALLOWED: dict[VisitStatus, frozenset[VisitStatus]] = {
    # Booked: the technician sets off or turns up; nobody at the door needs no arrival;
    # dispatch (or the order's cancellation) may still call it off.
    VisitStatus.PLANNED: frozenset(
        {VisitStatus.EN_ROUTE, VisitStatus.ON_SITE, VisitStatus.NO_ACCESS, VisitStatus.CANCELLED}
    ),
    # On the way: a new ETA reports en route again. An outcome is accepted without an
    # arrival, as it always was (the phone's arrival operation may not have reached us).
    VisitStatus.EN_ROUTE: frozenset(
        {VisitStatus.EN_ROUTE, VisitStatus.ON_SITE, VisitStatus.CANCELLED}
    )
    | OUTCOMES,
    # At the door: only an outcome ends the visit; it can no longer be cancelled.
    VisitStatus.ON_SITE: OUTCOMES,
    **{status: frozenset() for status in OUTCOMES},
    VisitStatus.CANCELLED: frozenset(),
}

# A visit that can still happen: it holds the technician's time and the order's schedule.
LIVE = frozenset(status for status, targets in ALLOWED.items() if targets)
TERMINAL = frozenset(status for status, targets in ALLOWED.items() if not targets)


class VisitTransitionRefused(Exception):
    """The visit state machine does not allow this move."""

    def __init__(self, current: VisitStatus, target: VisitStatus) -> None:
        super().__init__(f"A visit cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def can_transition(current: str, target: str) -> bool:
    """Whether ``current -> target`` is allowed."""
    return VisitStatus(target) in ALLOWED[VisitStatus(current)]


def transition(current: str, target: str) -> VisitStatus:
    """The new status, or VisitTransitionRefused."""
    if not can_transition(current, target):
        raise VisitTransitionRefused(VisitStatus(current), VisitStatus(target))
    return VisitStatus(target)
