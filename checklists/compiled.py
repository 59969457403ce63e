"""A validated template prepared for fast evaluation: conditions compiled once, lookups indexed."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from checklists.analysis import values_match
from checklists.answers import AnswerChecker, checker_for
from checklists.errors import TemplateError
from checklists.expressions import Compiled, Scalar, Value, compile_condition, parse_condition
from checklists.expressions import step_references as _references
from checklists.hashing import content_hash
from checklists.schema import (
    LANGS,
    GeoCheckStep,
    Lang,
    Outcome,
    OutcomeDefinition,
    Phase,
    PhotoStep,
    Requirement,
    Step,
    Template,
    Text,
)
from checklists.validation import iter_steps, validate_template


@dataclass(frozen=True, slots=True)
class CompiledRequirement:
    """A gate requirement ready to test against the current values."""

    step_id: str
    equals: Scalar | None
    message: Text | None

    def met(self, values: dict[str, Value]) -> bool:
        """Whether the step is answered (with the required value, if any)."""
        return self.step_id in values and values_match(values[self.step_id], self.equals)


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """A step with its compiled condition, answer checker and evidence needs."""

    step: Step
    id: str
    phase_index: int | None
    outcome: Outcome | None
    condition: Compiled | None
    condition_refs: tuple[str, ...]
    check: AnswerChecker
    required: bool
    is_geo: bool
    needs_timestamp: bool
    needs_location: bool
    needs_photo: bool

    def title(self, lang: Lang) -> str:
        """The step's title in a language."""
        return self.step.title.get(lang)


@dataclass(frozen=True, slots=True)
class CompiledPhase:
    """A phase with its gate and steps."""

    phase: Phase
    index: int
    gate: tuple[CompiledRequirement, ...]
    steps: tuple[CompiledStep, ...]


@dataclass(frozen=True, slots=True)
class CompiledOutcome:
    """An outcome with its automatic condition, gate and own steps."""

    definition: OutcomeDefinition
    auto_when: Compiled | None
    gate: tuple[CompiledRequirement, ...]
    steps: tuple[CompiledStep, ...]


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A published template version ready for the engine; build it with compile_template()."""

    template: Template
    content_hash: str
    phases: tuple[CompiledPhase, ...]
    outcomes: dict[Outcome, CompiledOutcome]
    steps: dict[str, CompiledStep]
    # Every step title per language, so messages need no lookups through the template.
    titles: dict[Lang, dict[str, str]]

    @property
    def key(self) -> str:
        """The template key (the work type)."""
        return self.template.key

    @property
    def version(self) -> int:
        """The published version number."""
        return self.template.version


_K = TypeVar("_K")
_V = TypeVar("_V")

_CACHE_SIZE = 64
_by_hash: OrderedDict[str, CompiledTemplate] = OrderedDict()
# id(template) -> (weak reference, compiled): skips re-hashing a template object seen before.
# The weak reference tells a live entry from one whose id was reused by a newer object.
_by_identity: OrderedDict[int, tuple[weakref.ref[Template], CompiledTemplate]] = OrderedDict()
_lock = threading.Lock()


def compile_template(template: Template) -> CompiledTemplate:
    """Validate and compile a template; cached by content hash. Raises TemplateError."""
    seen = _by_identity.get(id(template))
    if seen is not None and seen[0]() is template:
        return seen[1]
    digest = content_hash(template)
    with _lock:
        compiled = _by_hash.get(digest)
        if compiled is not None:
            _by_hash.move_to_end(digest)
    if compiled is None:
        issues = validate_template(template)
        if issues:
            raise TemplateError(issues)
        compiled = _build(template, digest)
        with _lock:
            _remember(_by_hash, digest, compiled)
    with _lock:
        _remember(_by_identity, id(template), (weakref.ref(template), compiled))
    return compiled


def _remember(cache: OrderedDict[_K, _V], key: _K, value: _V) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


def _build(template: Template, digest: str) -> CompiledTemplate:
    steps: dict[str, CompiledStep] = {}
    for entry in iter_steps(template):
        steps[entry.step.id] = _compile_step(entry.step, entry.phase_index, entry.outcome)
    phases = tuple(
        CompiledPhase(
            phase,
            index,
            _requirements(phase.gate),
            tuple(steps[step.id] for step in phase.steps),
        )
        for index, phase in enumerate(template.phases)
    )
    outcomes = {
        outcome.id: CompiledOutcome(
            outcome,
            _compile_source(outcome.auto_when),
            _requirements(outcome.gate),
            tuple(steps[step.id] for step in outcome.steps),
        )
        for outcome in template.outcomes
    }
    titles = {lang: {sid: s.step.title.get(lang) for sid, s in steps.items()} for lang in LANGS}
    return CompiledTemplate(template, digest, phases, outcomes, steps, titles)


def _compile_step(step: Step, phase_index: int | None, outcome: Outcome | None) -> CompiledStep:
    refs: tuple[str, ...] = ()
    condition = None
    if step.visible_when is not None:
        node = parse_condition(step.visible_when)
        condition = compile_condition(node)
        refs = tuple(dict.fromkeys(name for name, _ in _references(node)))
    return CompiledStep(
        step=step,
        id=step.id,
        phase_index=phase_index,
        outcome=outcome,
        condition=condition,
        condition_refs=refs,
        check=checker_for(step),
        required=step.required,
        is_geo=isinstance(step, GeoCheckStep),
        needs_timestamp="timestamp" in step.evidence,
        # A geo_check or photo answer is its own location or photo evidence.
        needs_location="location" in step.evidence and not isinstance(step, GeoCheckStep),
        needs_photo="photo" in step.evidence and not isinstance(step, PhotoStep),
    )


def _compile_source(source: str | None) -> Compiled | None:
    return None if source is None else compile_condition(parse_condition(source))


def _requirements(gate: tuple[Requirement, ...]) -> tuple[CompiledRequirement, ...]:
    return tuple(CompiledRequirement(r.step, r.equals, r.message) for r in gate)
