"""Which SLA policy covers a work order (pure): the most specific match wins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.sla.clock import Targets

# Specificity weights: a policy naming the work type beats any policy that does not, then the
# priority, the segment and the area. Every combination has its own weight, and at most one
# policy exists per combination (a unique key), so the choice is never a tie.
WEIGHTS = (("work_type", 8), ("priority", 4), ("segment", 2), ("area_kind", 1))


def specificity(policy: Any) -> int:
    """Sum of the weights of the key fields a policy (rule or row) names."""
    return sum(weight for name, weight in WEIGHTS if getattr(policy, name) is not None)


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A policy as the matcher sees it; None in a key field means "any"."""

    id: uuid.UUID
    name: str
    work_type: str | None
    priority: str | None
    segment: str | None
    area_kind: str | None
    response_minutes: int
    arrival_minutes: int
    resolution_minutes: int
    measure: str
    warning_ratio: float

    def covers(self, work_type: str, priority: str, segment: str, area_kind: str) -> bool:
        """Whether every field the policy names matches the order."""
        wanted = {
            "work_type": work_type,
            "priority": priority,
            "segment": segment,
            "area_kind": area_kind,
        }
        return all(getattr(self, name) in (None, value) for name, value in wanted.items())

    def targets(self) -> Targets:
        """The clock's view of the policy."""
        return Targets(
            response=self.response_minutes,
            arrival=self.arrival_minutes,
            resolution=self.resolution_minutes,
            measure=self.measure,
            warning_ratio=self.warning_ratio,
            policy_id=self.id,
            policy_name=self.name,
        )


def choose(
    rules: Iterable[PolicyRule], work_type: str, priority: str, segment: str, area_kind: str
) -> PolicyRule | None:
    """The most specific policy covering the order, or None."""
    matching = [r for r in rules if r.covers(work_type, priority, segment, area_kind)]
    if not matching:
        return None
    return max(matching, key=lambda r: (specificity(r), str(r.id)))
