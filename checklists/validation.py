"""Checks a template beyond its schema: ids, ranges, conditions, gates and reachability."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from checklists.analysis import BudgetExceeded, Variable, domain_for, satisfiable
from checklists.errors import TemplateIssue
from checklists.expressions import (
    RESERVED_NAMES,
    Compiled,
    ConditionError,
    Node,
    Scalar,
    Symbol,
    Usage,
    check_types,
    compile_condition,
    parse_condition,
    step_references,
)
from checklists.schema import (
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    NumberStep,
    Outcome,
    PersonNameStep,
    PhotoStep,
    Requirement,
    SerialStep,
    SignatureStep,
    Step,
    Template,
    TextStep,
    YesNoStep,
    step_kind,
)


@dataclass(frozen=True, slots=True)
class StepEntry:
    """A step with where it sits: JSON path, template order, phase or outcome."""

    step: Step
    path: str
    order: int
    phase_index: int | None
    outcome: Outcome | None


def iter_steps(template: Template) -> Iterator[StepEntry]:
    """Every step in template order: phase steps first, then each outcome's steps."""
    order = 0
    for phase_index, phase in enumerate(template.phases):
        for step_index, step in enumerate(phase.steps):
            path = f"$.phases[{phase_index}].steps[{step_index}]"
            yield StepEntry(step, path, order, phase_index, None)
            order += 1
    for outcome_index, outcome in enumerate(template.outcomes):
        for step_index, step in enumerate(outcome.steps):
            path = f"$.outcomes[{outcome_index}].steps[{step_index}]"
            yield StepEntry(step, path, order, None, outcome.id)
            order += 1


def is_customer_visible(template: Template, entry: StepEntry) -> bool:
    """Whether the step can be a row of the customer's act (a step of a non-internal phase)."""
    if entry.phase_index is None or entry.step.internal:
        return False
    return not template.phases[entry.phase_index].internal


def symbol_for(step: Step) -> Symbol:
    """The type a step's answer has inside conditions."""
    if isinstance(step, (ConfirmStep, YesNoStep, SignatureStep, GeoCheckStep)):
        return Symbol("bool")
    if isinstance(step, (NumberStep, PhotoStep)):
        return Symbol("number")
    if isinstance(step, ChoiceStep):
        return Symbol("string", frozenset(option.value for option in step.options))
    if isinstance(step, (TextStep, PersonNameStep)):
        return Symbol("string")
    return Symbol("opaque")


def validate_template(template: Template) -> list[TemplateIssue]:
    """Every problem found in the template; an empty list means it may be published."""
    return _Validator(template).run()


@dataclass(frozen=True, slots=True)
class _Gated:
    """A gate requirement with its JSON path and the phase it guards (None: an outcome)."""

    requirement: Requirement
    path: str
    phase_index: int | None


class _Validator:
    """Collects issues; one method per family of rules."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.issues: list[TemplateIssue] = []
        self.entries = list(iter_steps(template))
        self.by_id: dict[str, StepEntry] = {}
        for entry in self.entries:
            self.by_id.setdefault(entry.step.id, entry)
        self.conditions: dict[str, tuple[Node, Compiled]] = {}
        self.auto_conditions: dict[int, tuple[Node, Compiled]] = {}
        self.usage = Usage()

    def run(self) -> list[TemplateIssue]:
        self._check_ids()
        self._check_step_fields()
        self._check_standing_rules()
        self._check_statements()
        self._check_conditions()
        self._check_gates()
        self._check_outcomes()
        if not self.issues:
            self._check_reachability()
        return self.issues

    def _issue(
        self, path: str, message: str, *, step_id: str | None = None, field: str | None = None
    ) -> None:
        self.issues.append(TemplateIssue(path, message, step_id=step_id, field=field))

    # ------------------------------------------------------------------ ids

    def _check_ids(self) -> None:
        first_phase: dict[str, int] = {}
        for index, phase in enumerate(self.template.phases):
            if phase.id in first_phase:
                self._issue(f"$.phases[{index}].id", f"duplicate phase id {phase.id!r}", field="id")
            first_phase.setdefault(phase.id, index)
        if not self.template.phases:
            self._issue("$.phases", "a template needs at least one phase", field="phases")
        seen: dict[str, str] = {}
        for entry in self.entries:
            step_id = entry.step.id
            if step_id in seen:
                self._issue(
                    f"{entry.path}.id",
                    f"duplicate step id {step_id!r} (first used at {seen[step_id]})",
                    step_id=step_id,
                    field="id",
                )
            seen.setdefault(step_id, entry.path)
            if step_id in RESERVED_NAMES:
                self._issue(
                    f"{entry.path}.id",
                    f"{step_id!r} is a reserved word of the condition language",
                    step_id=step_id,
                    field="id",
                )
        self._check_unique(
            ((f"$.outcomes[{i}].id", o.id) for i, o in enumerate(self.template.outcomes)),
            "outcome",
        )
        self._check_unique(
            (
                (f"$.standing_rules[{i}].id", r.id)
                for i, r in enumerate(self.template.standing_rules)
            ),
            "standing rule",
        )

    def _check_unique(self, items: Iterable[tuple[str, str]], what: str) -> None:
        seen: set[str] = set()
        for path, value in items:
            if value in seen:
                self._issue(path, f"duplicate {what} id {value!r}", field="id")
            seen.add(value)

    # ------------------------------------------------------------------ step fields

    def _check_step_fields(self) -> None:
        for entry in self.entries:
            step = entry.step
            for problem, field in _field_problems(step):
                self._issue(f"{entry.path}.{field}", problem, step_id=step.id, field=field)
            if len(set(step.evidence)) != len(step.evidence):
                self._issue(
                    f"{entry.path}.evidence",
                    "evidence lists a kind twice",
                    step_id=step.id,
                    field="evidence",
                )
            if isinstance(step, ChoiceStep):
                self._check_unique(
                    (
                        (f"{entry.path}.options[{i}].value", option.value)
                        for i, option in enumerate(step.options)
                    ),
                    "option",
                )

    def _check_statements(self) -> None:
        """Statements are all or nothing: once a template has one, every act row needs one.

        Templates published before statements existed have none and stay valid (published
        versions are immutable); the act then borrows a newer version's texts.
        """
        customer_visible = [
            entry for entry in self.entries if is_customer_visible(self.template, entry)
        ]
        if not any(entry.step.statement is not None for entry in self.entries):
            return
        for entry in customer_visible:
            if entry.step.statement is None:
                self._issue(
                    f"{entry.path}.statement",
                    "a step printed on the customer's act needs a statement (or internal: true)",
                    step_id=entry.step.id,
                    field="statement",
                )

    def _check_standing_rules(self) -> None:
        acknowledging = [
            entry
            for entry in self.entries
            if isinstance(entry.step, ConfirmStep) and entry.step.acknowledges_standing_rules
        ]
        rules = self.template.standing_rules
        if rules and len(acknowledging) != 1:
            self._issue(
                "$.standing_rules",
                "standing rules need exactly one confirm step with "
                f"acknowledges_standing_rules: true (found {len(acknowledging)})",
                field="standing_rules",
            )
        for entry in acknowledging:
            if not rules:
                self._issue(
                    f"{entry.path}.acknowledges_standing_rules",
                    "acknowledges standing rules, but the template has none",
                    step_id=entry.step.id,
                    field="acknowledges_standing_rules",
                )
            elif entry.phase_index is None or not entry.step.required:
                self._issue(
                    f"{entry.path}.acknowledges_standing_rules",
                    "the acknowledgement of standing rules must be a required phase step",
                    step_id=entry.step.id,
                    field="acknowledges_standing_rules",
                )

    # ------------------------------------------------------------------ conditions

    def _check_conditions(self) -> None:
        phase_entries = [entry for entry in self.entries if entry.outcome is None]
        for entry in self.entries:
            source = entry.step.visible_when
            if source is None:
                continue
            visible = {
                other.step.id: other
                for other in self.entries
                if other.order < entry.order
                and (other.outcome is None or other.outcome == entry.outcome)
            }
            compiled = self._compile(
                source, f"{entry.path}.visible_when", visible, owner=entry, field="visible_when"
            )
            if compiled is not None:
                self.conditions[entry.step.id] = compiled
        all_phase_steps = {entry.step.id: entry for entry in phase_entries}
        for index, outcome in enumerate(self.template.outcomes):
            if outcome.auto_when is None:
                continue
            compiled = self._compile(
                outcome.auto_when,
                f"$.outcomes[{index}].auto_when",
                all_phase_steps,
                owner=None,
                field="auto_when",
            )
            if compiled is not None:
                self.auto_conditions[index] = compiled

    def _compile(
        self,
        source: str,
        path: str,
        visible: Mapping[str, StepEntry],
        *,
        owner: StepEntry | None,
        field: str,
    ) -> tuple[Node, Compiled] | None:
        owner_id = owner.step.id if owner is not None else None
        try:
            node = parse_condition(source)
        except ConditionError as error:
            self._issue(path, f"syntax error: {error}", step_id=owner_id, field=field)
            return None
        problems = [
            f"{self._reference_problem(name, owner)} (column {position + 1})"
            for name, position in step_references(node)
            if name not in visible
        ]
        for problem in problems:
            self._issue(path, problem, step_id=owner_id, field=field)
        if problems:
            return None
        symbols = {step_id: symbol_for(entry.step) for step_id, entry in visible.items()}
        try:
            check_types(node, symbols, self.usage)
        except ConditionError as error:
            self._issue(path, str(error), step_id=owner_id, field=field)
            return None
        return node, compile_condition(node)

    def _reference_problem(self, name: str, owner: StepEntry | None) -> str:
        target = self.by_id.get(name)
        if target is None:
            return f"unknown step {name!r}"
        if owner is not None and target.step.id == owner.step.id:
            return "a step's condition cannot refer to the step itself"
        if target.outcome is not None and (owner is None or owner.outcome != target.outcome):
            return f"step {name!r} is recorded only with outcome {target.outcome!r}"
        return f"step {name!r} comes later; a condition may only use earlier steps"

    # ------------------------------------------------------------------ gates

    def _gates(self) -> Iterator[_Gated]:
        for p_index, phase in enumerate(self.template.phases):
            for r_index, requirement in enumerate(phase.gate):
                yield _Gated(requirement, f"$.phases[{p_index}].gate[{r_index}]", p_index)
        for o_index, outcome in enumerate(self.template.outcomes):
            for r_index, requirement in enumerate(outcome.gate):
                yield _Gated(requirement, f"$.outcomes[{o_index}].gate[{r_index}]", None)

    def _check_gates(self) -> None:
        seen: set[tuple[str, str]] = set()
        for gated in self._gates():
            requirement = gated.requirement
            gate_path = gated.path.rsplit("[", 1)[0]
            if (gate_path, requirement.step) in seen:
                self._issue(
                    gated.path,
                    f"step {requirement.step!r} is named twice in this gate",
                    field="gate",
                )
            seen.add((gate_path, requirement.step))
            problem = self._gate_problem(gated)
            if problem is not None:
                self._issue(f"{gated.path}.step", problem, step_id=requirement.step, field="gate")
                continue
            target = self.by_id[requirement.step].step
            problem = _equals_problem(target, requirement.equals)
            if problem is not None:
                self._issue(
                    f"{gated.path}.equals", problem, step_id=requirement.step, field="equals"
                )
            elif requirement.equals is not None:
                self.usage.constants.setdefault(requirement.step, set()).add(requirement.equals)

    def _gate_problem(self, gated: _Gated) -> str | None:
        name = gated.requirement.step
        target = self.by_id.get(name)
        if target is None:
            return f"gate names unknown step {name!r}"
        if target.outcome is not None:
            return f"gate names step {name!r} of outcome {target.outcome!r}; use phase steps"
        guarded = gated.phase_index
        if guarded is not None and target.phase_index is not None and target.phase_index >= guarded:
            phases = self.template.phases
            return (
                f"gate of phase {phases[guarded].id!r} names step {name!r} of phase "
                f"{phases[target.phase_index].id!r}; a phase gate may only name steps of "
                "earlier phases, or the phase could never open"
            )
        return None

    # ------------------------------------------------------------------ outcomes

    def _check_outcomes(self) -> None:
        completed = [
            (index, outcome)
            for index, outcome in enumerate(self.template.outcomes)
            if outcome.id == "completed"
        ]
        if not completed:
            self._issue(
                "$.outcomes", "the template must define the 'completed' outcome", field="outcomes"
            )
            return
        index, outcome = completed[0]
        if outcome.auto_when is not None:
            self._issue(
                f"$.outcomes[{index}].auto_when",
                "completion is declared by the technician; 'completed' cannot be automatic",
                field="auto_when",
            )
        if not outcome.final:
            self._issue(f"$.outcomes[{index}].final", "'completed' must be final", field="final")

    # ------------------------------------------------------------------ reachability

    def _check_reachability(self) -> None:
        try:
            self._check_steps_can_show()
            self._check_auto_outcomes()
            self._check_completion()
            self._check_outcome_gates()
        except BudgetExceeded:
            self._issue(
                "$",
                "too many combinations of answers to check this template; simplify its conditions",
            )

    def _variables(self, step_ids: Iterable[str]) -> list[Variable]:
        """The steps named, plus every step their conditions depend on, in template order."""
        pending = list(step_ids)
        included: set[str] = set()
        while pending:
            step_id = pending.pop()
            if step_id in included:
                continue
            included.add(step_id)
            condition = self.conditions.get(step_id)
            if condition is not None:
                pending.extend(name for name, _ in step_references(condition[0]))
        constants = self._constants()
        variables: list[Variable] = []
        for entry in sorted((self.by_id[i] for i in included), key=lambda e: e.order):
            condition = self.conditions.get(entry.step.id)
            variables.append(
                Variable(
                    entry.step.id,
                    condition[1] if condition else None,
                    entry.step.required,
                    domain_for(entry.step, constants.get(entry.step.id, ())),
                )
            )
        return variables

    def _constants(self) -> dict[str, set[Scalar]]:
        """Constants per step, shared between steps compared with each other."""
        constants = {key: set(values) for key, values in self.usage.constants.items()}
        changed = True
        while changed:
            changed = False
            for pair in self.usage.linked:
                merged: set[Scalar] = set().union(*(constants.get(s, set()) for s in pair))
                for step_id in pair:
                    if constants.get(step_id, set()) != merged:
                        constants[step_id] = set(merged)
                        changed = True
        return constants

    def _phase_gates(self, up_to: int) -> list[_Gated]:
        return [g for g in self._gates() if g.phase_index is not None and g.phase_index <= up_to]

    def _satisfiable(
        self,
        gates: Iterable[_Gated],
        *,
        goal: tuple[Node, Compiled] | None = None,
        answer_required: bool = False,
    ) -> bool:
        demands: dict[str, list[Scalar | None]] = {}
        for gated in gates:
            demands.setdefault(gated.requirement.step, []).append(gated.requirement.equals)
        names = set(demands)
        if goal is not None:
            names.update(name for name, _ in step_references(goal[0]))
        return satisfiable(
            self._variables(names),
            demands,
            goal=goal[1] if goal is not None else None,
            answer_required=answer_required,
        )

    def _check_steps_can_show(self) -> None:
        for entry in self.entries:
            condition = self.conditions.get(entry.step.id)
            if condition is None:
                continue
            gates = self._phase_gates(entry.phase_index) if entry.phase_index is not None else []
            if self._satisfiable(gates, goal=condition):
                continue
            if gates and self._satisfiable([], goal=condition):
                assert entry.phase_index is not None
                phase = self.template.phases[entry.phase_index].id
                message = (
                    f"this condition can only be true while phase {phase!r} is locked, "
                    "so the step can never be answered"
                )
            else:
                message = "this condition can never be true, so the step would never be shown"
            self._issue(
                f"{entry.path}.visible_when", message, step_id=entry.step.id, field="visible_when"
            )

    def _check_auto_outcomes(self) -> None:
        for index, condition in self.auto_conditions.items():
            if not self._satisfiable([], goal=condition):
                self._issue(
                    f"$.outcomes[{index}].auto_when",
                    "this condition can never be true",
                    field="auto_when",
                )

    def _check_completion(self) -> None:
        index = next(i for i, o in enumerate(self.template.outcomes) if o.id == "completed")
        gates = [g for g in self._gates() if g.phase_index is not None]
        gates += [g for g in self._gates() if g.path.startswith(f"$.outcomes[{index}].")]
        if self._satisfiable(gates, answer_required=True):
            return
        culprits = [
            gated
            for gated in gates
            if self._satisfiable([g for g in gates if g is not gated], answer_required=True)
        ]
        for gated in culprits:
            self._issue(
                gated.path,
                "completion can never be allowed: this requirement cannot hold together with "
                "the other gates and conditions",
                step_id=gated.requirement.step,
                field="gate",
            )
        if not culprits:
            self._issue(
                f"$.outcomes[{index}].gate",
                "completion can never be allowed: no answers meet all gates and conditions",
                field="gate",
            )

    def _check_outcome_gates(self) -> None:
        for index, outcome in enumerate(self.template.outcomes):
            if outcome.id == "completed" or not outcome.gate:
                continue
            own = [g for g in self._gates() if g.path.startswith(f"$.outcomes[{index}].")]
            deepest = max((self.by_id[g.requirement.step].phase_index or 0 for g in own), default=0)
            if not self._satisfiable([*own, *self._phase_gates(deepest)]):
                self._issue(
                    f"$.outcomes[{index}].gate",
                    f"outcome {outcome.id!r} can never be declared: no answers meet its gate",
                    field="gate",
                )


def _field_problems(step: Step) -> Iterator[tuple[str, str]]:
    """(message, field) for each inconsistent field of one step."""
    if isinstance(step, ChoiceStep) and len(step.options) < 2:
        yield "a choice needs at least two options", "options"
    if isinstance(step, NumberStep):
        for name, bound in (("min", step.min), ("max", step.max)):
            if bound is not None and not math.isfinite(bound):
                yield f"{name} must be a finite number", name
        if step.min is not None and step.max is not None and step.min > step.max:
            yield f"min ({step.min:g}) is greater than max ({step.max:g})", "min"
    if isinstance(step, (PhotoStep, SerialStep)):
        if step.max_count < 1:
            yield "max_count must be at least 1", "max_count"
        if step.min_count > step.max_count:
            yield f"min_count ({step.min_count}) exceeds max_count ({step.max_count})", "min_count"
    if isinstance(step, (TextStep, PersonNameStep)) and step.max_length < 1:
        yield "max_length must be at least 1", "max_length"
    if isinstance(step, GeoCheckStep) and not (math.isfinite(step.radius_m) and step.radius_m > 0):
        yield "radius_m must be a positive number of metres", "radius_m"


def _equals_problem(step: Step, expected: Scalar | None) -> str | None:
    """Why a gate cannot require `expected` of this step, or None if it can."""
    if expected is None:
        return None
    kind = step_kind(step)
    is_number = isinstance(expected, (int, float)) and not isinstance(expected, bool)
    if isinstance(step, ConfirmStep):
        return None if expected is True else "a confirm step can only be required to be true"
    if isinstance(step, (YesNoStep, GeoCheckStep)):
        return None if isinstance(expected, bool) else f"a {kind} step equals true or false"
    if isinstance(step, ChoiceStep):
        options = [option.value for option in step.options]
        if expected in options and isinstance(expected, str):
            return None
        return f"{expected!r} is not an option (options: {', '.join(options)})"
    if isinstance(step, (TextStep, PersonNameStep)):
        return None if isinstance(expected, str) else f"a {kind} step equals a string"
    if isinstance(step, NumberStep):
        if not is_number:
            return "a number step equals a number"
        assert isinstance(expected, (int, float))
        if (step.min is not None and expected < step.min) or (
            step.max is not None and expected > step.max
        ):
            return f"{expected} is outside the step's range"
        return None
    if isinstance(step, PhotoStep):
        if not isinstance(expected, int) or isinstance(expected, bool):
            return "a photo step equals a whole number of photos"
        if not step.min_count <= expected <= step.max_count:
            return f"{expected} photos is outside min_count..max_count"
        return None
    return f"equals is not supported for {kind} steps; require the step answered instead"
