"""Checklist engine speed: evaluations per second against a bare loop over the same answers."""

from __future__ import annotations

import time
from collections.abc import Callable

from checklists import evaluate, load_templates
from tests.unit.checklists.builders import SITE, complete_answers

# Each side gets at least this many calls, and stops after this many seconds.
_MIN_CALLS = 3000
_BUDGET_S = 0.8
_BATCH = 250


def _rate(work: Callable[[], object]) -> float:
    """Calls per second of `work`, measured with time.perf_counter."""
    calls = 0
    started = time.perf_counter()
    elapsed = 0.0
    while calls < _MIN_CALLS or elapsed < _BUDGET_S:
        for _ in range(_BATCH):
            work()
        calls += _BATCH
        elapsed = time.perf_counter() - started
        if elapsed > _BUDGET_S and calls >= _BATCH * 4:
            break
    return calls / elapsed


def main() -> None:
    """Print engine evaluations per second, a bare loop's rate, and their ratio."""
    template = load_templates().get("installation")
    answers = complete_answers(template)
    known = set(template.steps)
    assert evaluate(template, answers, site=SITE, outcome="completed").outcome == "completed"

    def engine() -> object:
        return evaluate(template, answers, site=SITE, outcome="completed")

    def bare_loop() -> object:
        # The least any evaluation must do: look at every answer once.
        return all(step_id in known for step_id in answers)

    engine_rate = _rate(engine)
    loop_rate = _rate(bare_loop)
    print(
        f"checklist evaluate, installation with all {len(answers)} steps answered: "
        f"{engine_rate:,.0f}/s ({1e6 / engine_rate:.0f} µs each)"
    )
    print(
        f"bare loop over the same answers: {loop_rate:,.0f}/s "
        f"(ratio loop/engine {loop_rate / engine_rate:.0f}x)"
    )


if __name__ == "__main__":
    main()
