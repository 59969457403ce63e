"""The slot offers as the page lists them: each technician's best window first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from service.common.schemas import Window
from service.scheduling.schemas import Candidate, Slot
from service.staff.offer_list import spread_offers

NEAR, FAR, BUSY = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)
MONDAY = datetime(2026, 12, 7, 4, tzinfo=UTC)


def _candidate(who: uuid.UUID, travel: int, load: int = 0) -> Candidate:
    return Candidate(
        technician_id=who,
        full_name=str(who),
        distance_km=travel / 3,
        travel_minutes=travel,
        visits_that_day=load,
        estimated_arrival=MONDAY,
    )


def _slot(hour: int, *candidates: Candidate) -> Slot:
    start = MONDAY + timedelta(hours=hour)
    return Slot(
        window=Window(start=start, end=start + timedelta(hours=2)), candidates=[*candidates]
    )


def test_one_row_per_technician_then_the_rest_by_time() -> None:
    slots = [_slot(h, _candidate(NEAR, 10), _candidate(FAR, 40)) for h in (0, 2, 4, 6)]
    best, rest = spread_offers(slots)
    assert [(p.candidate.technician_id, p.slot.window.start) for p in best] == [
        (NEAR, MONDAY),
        (FAR, MONDAY),
    ]
    # The first window's pairs both lead, so it is not listed again; the others keep both.
    assert [s.window.start for s in rest] == [MONDAY + timedelta(hours=h) for h in (2, 4, 6)]
    assert [c.technician_id for c in rest[0].candidates] == [NEAR, FAR]


def test_a_lighter_later_window_beats_an_earlier_loaded_one() -> None:
    slots = [_slot(0, _candidate(BUSY, 10, load=3)), _slot(4, _candidate(BUSY, 10, load=0))]
    best, rest = spread_offers(slots)
    assert best[0].slot.window.start == MONDAY + timedelta(hours=4)
    assert [s.window.start for s in rest] == [MONDAY]


def test_rows_are_capped_and_nothing_is_lost() -> None:
    people = [uuid.UUID(int=i) for i in range(10, 20)]
    slots = [_slot(0, *(_candidate(p, 5 + i) for i, p in enumerate(people)))]
    best, rest = spread_offers(slots, rows=3)
    assert [p.candidate.technician_id for p in best] == people[:3]
    assert [c.technician_id for c in rest[0].candidates] == people[3:]
    assert spread_offers([]) == ([], [])
