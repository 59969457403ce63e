"""The slot offers as the dispatcher reads them: each technician's best window first.

The slot service lists windows in time order with their candidates best first; read that way the
first screen is often one technician's windows down the day. The page leads with one row per
technician, their best window (least travel and load, then earliest), so the choice between people
is visible at once, and keeps the other windows, by time, below. Every window-technician pair
appears exactly once, so the rows stay one radio group.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.scheduling.planning import cost
from service.scheduling.schemas import Candidate, Slot

BEST_ROWS = 6


@dataclass(frozen=True, slots=True)
class Pick:
    """One window with one technician."""

    slot: Slot
    candidate: Candidate


def spread_offers(slots: list[Slot], rows: int = BEST_ROWS) -> tuple[list[Pick], list[Slot]]:
    """The best window of up to ``rows`` technicians, best first, and the slots left over."""
    best: dict[uuid.UUID, Pick] = {}
    for slot in slots:
        for candidate in slot.candidates:
            held = best.get(candidate.technician_id)
            if held is None or _key(slot, candidate) < _key(held.slot, held.candidate):
                best[candidate.technician_id] = Pick(slot, candidate)
    leading = sorted(best.values(), key=lambda p: _key(p.slot, p.candidate))[:rows]
    taken = {(id(p.slot), p.candidate.technician_id) for p in leading}
    rest = []
    for slot in slots:
        others = [c for c in slot.candidates if (id(slot), c.technician_id) not in taken]
        if others:
            rest.append(Slot(window=slot.window, candidates=others))
    return leading, rest


def _key(slot: Slot, candidate: Candidate) -> tuple[float, object, str]:
    return (
        cost(candidate.travel_minutes, candidate.visits_that_day),
        slot.window.start,
        str(candidate.technician_id),
    )
