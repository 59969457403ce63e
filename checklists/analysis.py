"""Static reasoning over a template: can a set of conditions and gates ever hold together?

Each step that matters is given a small finite set of representative answers (its options,
yes and no, the numbers its conditions compare with and the points between them), and a
backtracking search over those answers, in template order, looks for one assignment that
meets every demand. Conditions only mention earlier steps, so visibility is known when a
step is reached.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from checklists.expressions import Compiled, Scalar, Value
from checklists.schema import (
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    NumberStep,
    PersonNameStep,
    PhotoStep,
    SignatureStep,
    Step,
    TextStep,
    YesNoStep,
)

# Two strings no template compares with: enough to make "x == y" and "x != y" both possible.
_OTHER_STRINGS = ("\x00other", "\x00another")
# Photo counts up to this span are tried one by one.
_MAX_ENUMERATED_COUNTS = 64
DEFAULT_BUDGET = 50_000


@dataclass(frozen=True, slots=True)
class Variable:
    """A step as the search sees it."""

    step_id: str
    condition: Compiled | None
    required: bool
    domain: tuple[Value, ...]


class BudgetExceeded(RuntimeError):
    """The search tried more assignments than allowed without an answer either way."""


def values_match(value: Value, expected: Scalar | None) -> bool:
    """Whether an answer meets a gate requirement (`expected` None means any answer)."""
    if expected is None:
        return True
    if value is None or isinstance(value, bool) is not isinstance(expected, bool):
        return False
    return value == expected


def domain_for(step: Step, constants: Iterable[Scalar]) -> tuple[Value, ...]:
    """Representative answer values for a step, given the constants it is compared with."""
    if isinstance(step, (ConfirmStep, SignatureStep)):
        return (True,)
    if isinstance(step, YesNoStep):
        return (True, False)
    if isinstance(step, GeoCheckStep):
        # Within the radius, outside it, or answered without a known site.
        return (True, False, None)
    if isinstance(step, ChoiceStep):
        return tuple(option.value for option in step.options)
    if isinstance(step, (TextStep, PersonNameStep)):
        strings = sorted({value for value in constants if isinstance(value, str)})
        return (*strings, *_OTHER_STRINGS)
    if isinstance(step, NumberStep):
        return tuple(_number_points(_numbers(constants), step.min, step.max))
    if isinstance(step, PhotoStep):
        low, high = step.min_count, step.max_count
        if high - low <= _MAX_ENUMERATED_COUNTS:
            return tuple(range(low, high + 1))
        return tuple(int(point) for point in _number_points(_numbers(constants), low, high))
    return (True,)  # serial: only answered() can look at it


def _numbers(constants: Iterable[Scalar]) -> set[float]:
    return {
        float(value)
        for value in constants
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }


def _number_points(points: set[float], low: float | None, high: float | None) -> list[float]:
    """Compared constants and range bounds, midpoints between them, one beyond each end."""
    critical = set(points)
    critical.update(bound for bound in (low, high) if bound is not None)
    if not critical:
        critical = {0.0}
    ordered = sorted(critical)
    candidates = {*ordered, ordered[0] - 1, ordered[-1] + 1}
    candidates.update((a + b) / 2 for a, b in itertools.pairwise(ordered))
    return [
        value
        for value in sorted(candidates)
        if (low is None or value >= low) and (high is None or value <= high)
    ]


def satisfiable(
    variables: Sequence[Variable],
    demands: Mapping[str, Sequence[Scalar | None]],
    *,
    goal: Compiled | None = None,
    answer_required: bool = False,
    budget: int = DEFAULT_BUDGET,
) -> bool:
    """Whether some answers to `variables` meet every demand and make `goal` true.

    `variables` must be in template order and closed under condition references. A demanded
    step must be visible and answered with a value matching each of its demands. With
    `answer_required`, every visible required step must be answered (as for completion).
    Raises BudgetExceeded when the search grows past `budget` assignments.
    """
    values: dict[str, Value] = {}
    remaining = [budget]

    def search(index: int) -> bool:
        remaining[0] -= 1
        if remaining[0] < 0:
            raise BudgetExceeded
        if index == len(variables):
            return goal is None or goal(values) is True
        variable = variables[index]
        visible = variable.condition is None or variable.condition(values) is True
        expected = demands.get(variable.step_id)
        if not visible:
            return expected is None and search(index + 1)
        for candidate in variable.domain:
            if expected is not None and not all(values_match(candidate, e) for e in expected):
                continue
            values[variable.step_id] = candidate
            if search(index + 1):
                return True
            del values[variable.step_id]
        may_skip = expected is None and not (answer_required and variable.required)
        return may_skip and search(index + 1)

    return search(0)
