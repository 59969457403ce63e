"""The checklist engine: from a template and the answers so far to the state of the visit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import msgspec

from checklists.answers import AnswerErrorCode, Rejection
from checklists.compiled import (
    CompiledOutcome,
    CompiledRequirement,
    CompiledStep,
    CompiledTemplate,
    compile_template,
)
from checklists.errors import AnswerRejected, UnknownOutcome
from checklists.expressions import Value
from checklists.geo import haversine_m
from checklists.messages import format_number, render
from checklists.schema import (
    Answer,
    ChoiceStep,
    Evidence,
    GeoCheckStep,
    GeoPoint,
    Incident,
    Lang,
    NumberStep,
    Outcome,
    Template,
)

PhaseStatus = Literal["done", "open", "locked"]
FlagCode = Literal["outside_radius", "low_accuracy", "site_unknown"]
BlockingCode = Literal["phase_gate", "outcome_gate", "required_step", "automatic_outcome"]


class BlockingReason(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why the requested outcome (by default: completion) cannot be recorded yet."""

    code: BlockingCode
    message: str
    step_id: str | None = None
    phase: str | None = None
    outcome: Outcome | None = None


class AnswerIssue(msgspec.Struct, frozen=True):
    """An answer present in the input that the engine did not count, and why."""

    step_id: str
    code: AnswerErrorCode
    message: str


class Flag(msgspec.Struct, frozen=True, omit_defaults=True):
    """An accepted answer that deserves a second look (e.g. marked far from the site)."""

    step_id: str
    code: FlagCode
    message: str
    distance_m: float | None = None
    radius_m: float | None = None


class PhaseState(msgspec.Struct, frozen=True):
    """Progress of one phase."""

    id: str
    title: str
    status: PhaseStatus
    required_total: int
    required_done: int


class EvidenceGap(msgspec.Struct, frozen=True):
    """A counted required step whose answer lacks evidence the template asks for."""

    step_id: str
    missing: tuple[Evidence, ...]


class Compliance(msgspec.Struct, frozen=True):
    """Share of visible required steps answered, in order and with their evidence."""

    score: float
    required: int
    compliant: int
    out_of_order: tuple[str, ...]
    missing_evidence: tuple[EvidenceGap, ...]


class ChecklistState(msgspec.Struct, frozen=True):
    """Everything the service and the phone need to know about a visit's checklist."""

    template_key: str
    template_version: int
    content_hash: str
    # First phase with work left (open or locked); None when every phase is done.
    current_phase: str | None
    phases: tuple[PhaseState, ...]
    # Steps whose condition holds, in template order, locked phases included.
    visible_steps: tuple[str, ...]
    # Steps with a counted (valid, visible, unlocked) answer.
    answered_steps: tuple[str, ...]
    # What to do now: the current phase's unanswered required steps (or the declared
    # outcome's), empty while that phase is locked.
    next_required_steps: tuple[str, ...]
    missing_required_steps: tuple[str, ...]
    completion_allowed: bool
    # Outcomes whose gates hold now, i.e. what the technician may declare.
    allowed_outcomes: tuple[Outcome, ...]
    requested_outcome: Outcome | None
    # The outcome in effect: the requested one once allowed, else an automatic one, else None.
    outcome: Outcome | None
    final: bool
    # Set when the outcome in effect requires the service to raise an incident.
    incident: Incident | None
    blocking_reasons: tuple[BlockingReason, ...]
    compliance: Compliance
    rejected_answers: tuple[AnswerIssue, ...]
    flags: tuple[Flag, ...]


@dataclass(slots=True)
class _Walk:
    """What one pass over the steps in template order found."""

    values: dict[str, Value] = field(default_factory=dict)
    counted: dict[str, Answer] = field(default_factory=dict)
    shown: list[list[CompiledStep]] = field(default_factory=list)
    shown_outcome_steps: list[CompiledStep] = field(default_factory=list)
    locked: list[bool] = field(default_factory=list)
    # Index of the first phase whose own gate fails; later phases are locked behind it.
    locking_phase: int | None = None
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)
    flags: list[tuple[str, FlagCode, float | None, float | None]] = field(default_factory=list)


def as_compiled(template: Template | CompiledTemplate) -> CompiledTemplate:
    """The compiled form of a template (compiled once per content, then cached)."""
    return template if isinstance(template, CompiledTemplate) else compile_template(template)


def evaluate(
    template: Template | CompiledTemplate,
    answers: Mapping[str, Answer],
    *,
    lang: Lang = "ru",
    site: GeoPoint | None = None,
    outcome: Outcome | None = None,
) -> ChecklistState:
    """The state of a visit given its answers keyed by step id.

    `site` enables the geo_check distance test; `outcome` is the outcome the technician
    declared (None while the visit is in progress). Invalid, hidden or locked answers are
    reported in `rejected_answers` and otherwise ignored. Raises UnknownOutcome when the
    template does not define `outcome`, TemplateError when given an invalid Template.
    """
    compiled = as_compiled(template)
    declared = _declared_outcome(compiled, outcome)
    walk = _walk(compiled, answers, site, declared)
    return _State(compiled, walk, lang, declared).build()


def validate_answer(
    template: Template | CompiledTemplate,
    answers_so_far: Mapping[str, Answer],
    answer: Answer,
    *,
    site: GeoPoint | None = None,
    outcome: Outcome | None = None,
    lang: Lang = "ru",
) -> None:
    """Raise AnswerRejected unless `answer` may be recorded on top of `answers_so_far`.

    An earlier answer to the same step is treated as replaced. A geo_check far from the
    site is accepted (evaluate() flags it).
    """
    compiled = as_compiled(template)
    declared = _declared_outcome(compiled, outcome)
    step = compiled.steps.get(answer.step_id)
    if step is None:
        message = render("unknown_step", lang, step=answer.step_id)
        raise AnswerRejected("unknown_step", answer.step_id, message)
    others = {key: value for key, value in answers_so_far.items() if key != answer.step_id}
    walk = _walk(compiled, others, site, declared)
    rejection: Rejection | None = None
    if step.outcome is not None and (declared is None or declared.definition.id != step.outcome):
        rejection = Rejection("outcome_not_declared", "outcome_not_declared")
    elif step.phase_index is not None and walk.locked[step.phase_index]:
        rejection = Rejection("phase_locked", "phase_locked")
    elif step.condition is not None and step.condition(walk.values) is not True:
        rejection = Rejection("step_hidden", "step_hidden")
    else:
        rejection = step.check(answer)[1]
    if rejection is not None:
        message = _rejection_message(compiled, walk, step.id, rejection, lang)
        raise AnswerRejected(rejection.code, step.id, message)


def _declared_outcome(
    compiled: CompiledTemplate, outcome: Outcome | None
) -> CompiledOutcome | None:
    if outcome is None:
        return None
    declared = compiled.outcomes.get(outcome)
    if declared is None:
        raise UnknownOutcome(f"template {compiled.key!r} has no outcome {outcome!r}")
    return declared


# ---------------------------------------------------------------------------- the walk


def _walk(
    compiled: CompiledTemplate,
    answers: Mapping[str, Answer],
    site: GeoPoint | None,
    declared: CompiledOutcome | None,
) -> _Walk:
    walk = _Walk()
    values = walk.values
    locked = False
    for phase in compiled.phases:
        if not locked:
            for requirement in phase.gate:
                if not requirement.met(values):
                    locked = True
                    walk.locking_phase = phase.index
                    break
        walk.locked.append(locked)
        shown: list[CompiledStep] = []
        walk.shown.append(shown)
        for step in phase.steps:
            condition = step.condition
            visible = condition is None or condition(values) is True
            if visible:
                shown.append(step)
            answer = answers.get(step.id)
            if answer is None:
                continue
            if not visible:
                walk.rejected.append((step.id, Rejection("step_hidden", "step_hidden")))
            elif locked:
                walk.rejected.append((step.id, Rejection("phase_locked", "phase_locked")))
            else:
                _accept(walk, step, answer, site)
    if declared is not None:
        for step in declared.steps:
            condition = step.condition
            if condition is not None and condition(values) is not True:
                if step.id in answers:
                    walk.rejected.append((step.id, Rejection("step_hidden", "step_hidden")))
                continue
            walk.shown_outcome_steps.append(step)
            answer = answers.get(step.id)
            if answer is not None:
                _accept(walk, step, answer, site)
    if len(answers) != len(walk.counted):
        _reject_leftovers(compiled, answers, declared, walk)
    return walk


def _accept(walk: _Walk, step: CompiledStep, answer: Answer, site: GeoPoint | None) -> None:
    if answer.step_id != step.id:
        params: dict[str, object] = {"key": step.id, "step": answer.step_id}
        walk.rejected.append((step.id, Rejection("step_id_mismatch", "step_id_mismatch", params)))
        return
    value, problem = step.check(answer)
    if problem is not None:
        walk.rejected.append((step.id, problem))
        return
    if step.is_geo:
        value = _check_position(walk, step, answer, site)
    walk.values[step.id] = value
    walk.counted[step.id] = answer


def _check_position(
    walk: _Walk, step: CompiledStep, answer: Answer, site: GeoPoint | None
) -> Value:
    """Whether the answer's position is within the step's radius of the site (None: unknown)."""
    assert isinstance(step.step, GeoCheckStep)
    assert answer.location is not None
    radius = step.step.radius_m
    if site is None:
        walk.flags.append((step.id, "site_unknown", None, radius))
        return None
    location = answer.location
    distance = round(haversine_m(site.lat, site.lon, location.lat, location.lon), 1)
    within = distance <= radius
    if not within:
        walk.flags.append((step.id, "outside_radius", distance, radius))
    if location.accuracy_m is not None and location.accuracy_m > radius:
        walk.flags.append((step.id, "low_accuracy", location.accuracy_m, radius))
    return within


def _reject_leftovers(
    compiled: CompiledTemplate,
    answers: Mapping[str, Answer],
    declared: CompiledOutcome | None,
    walk: _Walk,
) -> None:
    """Answers the walk never reached: unknown steps and steps of undeclared outcomes."""
    declared_id = declared.definition.id if declared is not None else None
    leftovers: list[tuple[str, Rejection]] = []
    for key in answers:
        step = compiled.steps.get(key)
        if step is None:
            leftovers.append((key, Rejection("unknown_step", "unknown_step")))
        elif step.outcome is not None and step.outcome != declared_id:
            leftovers.append((key, Rejection("outcome_not_declared", "outcome_not_declared")))
    # Sorted, so the state never depends on the order the answers arrived in.
    walk.rejected.extend(sorted(leftovers, key=lambda item: item[0]))


# ---------------------------------------------------------------------------- the state


class _State:
    """Assembles a ChecklistState from a walk, rendering texts in one language."""

    def __init__(
        self,
        compiled: CompiledTemplate,
        walk: _Walk,
        lang: Lang,
        declared: CompiledOutcome | None,
    ) -> None:
        self.compiled = compiled
        self.walk = walk
        self.lang = lang
        self.declared = declared
        self.titles = compiled.titles[lang]
        self.visible = tuple(
            step.id for steps in (*walk.shown, walk.shown_outcome_steps) for step in steps
        )

    def build(self) -> ChecklistState:
        compiled, walk = self.compiled, self.walk
        counted = walk.counted
        phases: list[PhaseState] = []
        missing: list[str] = []
        current: int | None = None
        for phase, shown, locked in zip(compiled.phases, walk.shown, walk.locked, strict=True):
            required = [step.id for step in shown if step.required]
            undone = [step_id for step_id in required if step_id not in counted]
            missing.extend(undone)
            status: PhaseStatus = "locked" if locked else ("open" if undone else "done")
            if status != "done" and current is None:
                current = phase.index
            title = phase.phase.title.get(self.lang)
            done = len(required) - len(undone)
            phases.append(PhaseState(phase.phase.id, title, status, len(required), done))
        outcome_missing = [
            step.id for step in walk.shown_outcome_steps if step.required and step.id not in counted
        ]

        automatic = self._automatic_outcome()
        completion_ok = (
            walk.locking_phase is None
            and not missing
            and automatic is None
            and all(r.met(walk.values) for r in compiled.outcomes["completed"].gate)
        )
        declared = self.declared
        requested = declared.definition.id if declared is not None else None
        if declared is None or requested == "completed":
            requested_ok = completion_ok
        else:
            requested_ok = not outcome_missing and self._gate_met(declared)
        in_effect = declared if (declared is not None and requested_ok) else automatic

        if requested in (None, "completed"):
            next_steps = self._next_steps(current)
            blocking = [] if requested_ok else self._completion_blockers(missing, automatic)
        else:
            assert declared is not None
            next_steps = tuple(outcome_missing)
            blocking = [] if requested_ok else self._outcome_blockers(declared, outcome_missing)

        return ChecklistState(
            template_key=compiled.key,
            template_version=compiled.version,
            content_hash=compiled.content_hash,
            current_phase=compiled.phases[current].phase.id if current is not None else None,
            phases=tuple(phases),
            visible_steps=self.visible,
            answered_steps=tuple(counted),
            next_required_steps=next_steps,
            missing_required_steps=tuple(missing + outcome_missing),
            completion_allowed=completion_ok and requested in (None, "completed"),
            allowed_outcomes=self._allowed_outcomes(completion_ok),
            requested_outcome=requested,
            outcome=in_effect.definition.id if in_effect is not None else None,
            final=in_effect.definition.final if in_effect is not None else False,
            incident=in_effect.definition.incident if in_effect is not None else None,
            blocking_reasons=tuple(blocking),
            compliance=self._compliance(),
            rejected_answers=tuple(
                AnswerIssue(
                    step_id,
                    rejection.code,
                    _rejection_message(compiled, walk, step_id, rejection, self.lang),
                )
                for step_id, rejection in walk.rejected
            ),
            flags=tuple(self._flag(*raw) for raw in walk.flags),
        )

    def _automatic_outcome(self) -> CompiledOutcome | None:
        for candidate in self.compiled.outcomes.values():
            auto = candidate.auto_when
            if auto is not None and auto(self.walk.values) is True:
                return candidate
        return None

    def _gate_met(self, outcome: CompiledOutcome) -> bool:
        return all(requirement.met(self.walk.values) for requirement in outcome.gate)

    def _allowed_outcomes(self, completion_ok: bool) -> tuple[Outcome, ...]:
        return tuple(
            outcome_id
            for outcome_id, outcome in self.compiled.outcomes.items()
            if (completion_ok if outcome_id == "completed" else self._gate_met(outcome))
        )

    def _next_steps(self, current: int | None) -> tuple[str, ...]:
        if current is None or self.walk.locked[current]:
            return ()
        counted = self.walk.counted
        return tuple(
            step.id for step in self.walk.shown[current] if step.required and step.id not in counted
        )

    # ------------------------------------------------------------------ blocking reasons

    def _completion_blockers(
        self, missing: list[str], automatic: CompiledOutcome | None
    ) -> list[BlockingReason]:
        """Reasons in the order of the visit: missing steps, the locked gate, the outcome."""
        walk, lang = self.walk, self.lang
        reasons: list[BlockingReason] = []
        for step_id in missing:
            step = self.compiled.steps[step_id]
            assert step.phase_index is not None
            if walk.locked[step.phase_index]:
                continue  # the phase gate below says why
            reasons.append(
                BlockingReason(
                    "required_step",
                    render("required_step", lang, title=self.titles[step_id]),
                    step_id=step_id,
                    phase=self.compiled.phases[step.phase_index].phase.id,
                )
            )
        if walk.locking_phase is not None:
            phase = self.compiled.phases[walk.locking_phase]
            title = phase.phase.title.get(lang)
            for requirement in self._actionable(phase.gate):
                detail = self._requirement_detail(requirement)
                reasons.append(
                    BlockingReason(
                        "phase_gate",
                        render("phase_gate", lang, phase=title, detail=detail),
                        step_id=requirement.step_id,
                        phase=phase.phase.id,
                    )
                )
        if automatic is not None:
            definition = automatic.definition
            detail = (definition.message or definition.title).get(lang)
            reasons.append(
                BlockingReason(
                    "automatic_outcome",
                    render(
                        "automatic_outcome", lang, outcome=definition.title.get(lang), detail=detail
                    ),
                    outcome=definition.id,
                )
            )
        completed = self.compiled.outcomes["completed"]
        reasons.extend(self._gate_reasons(completed, skip=set(missing)))
        return reasons

    def _actionable(self, gate: tuple[CompiledRequirement, ...]) -> list[CompiledRequirement]:
        """Unmet requirements, leaving out steps hidden for now when others can be acted on.

        With adult_present answered "no", overshoes_on is hidden: telling the technician to
        put overshoes on would contradict "do not enter".
        """
        unmet = [requirement for requirement in gate if not requirement.met(self.walk.values)]
        shown = [r for r in unmet if r.step_id in self.visible]
        return shown or unmet

    def _outcome_blockers(
        self, outcome: CompiledOutcome, missing: list[str]
    ) -> list[BlockingReason]:
        reasons = self._gate_reasons(outcome, skip=set())
        reasons.extend(
            BlockingReason(
                "required_step",
                render("required_step", self.lang, title=self.titles[step_id]),
                step_id=step_id,
                outcome=outcome.definition.id,
            )
            for step_id in missing
        )
        return reasons

    def _gate_reasons(self, outcome: CompiledOutcome, *, skip: set[str]) -> list[BlockingReason]:
        title = outcome.definition.title.get(self.lang)
        return [
            BlockingReason(
                "outcome_gate",
                render(
                    "outcome_gate",
                    self.lang,
                    outcome=title,
                    detail=self._requirement_detail(requirement),
                ),
                step_id=requirement.step_id,
                outcome=outcome.definition.id,
            )
            for requirement in self._actionable(outcome.gate)
            if requirement.step_id not in skip
        ]

    def _requirement_detail(self, requirement: CompiledRequirement) -> str:
        return requirement_detail(self.compiled, requirement, self.walk.values, self.lang)

    # ------------------------------------------------------------------ compliance

    def _compliance(self) -> Compliance:
        compiled, walk = self.compiled, self.walk
        counted = walk.counted
        # Latest answer time among required steps of earlier phases (and gate steps).
        floor: datetime | None = None
        required = compliant = 0
        out_of_order: list[str] = []
        gaps: list[EvidenceGap] = []
        for phase, shown in zip(compiled.phases, walk.shown, strict=True):
            for requirement in phase.gate:
                floor = _later(floor, _answered_at(counted, requirement.step_id))
            phase_latest = floor
            for step in shown:
                if not step.required:
                    continue
                required += 1
                answer = counted.get(step.id)
                if answer is None:
                    continue
                stamp = answer.answered_at
                in_order = stamp is None or _in_order(stamp, floor, step, counted)
                phase_latest = _later(phase_latest, stamp)
                missing = _missing_evidence(step, answer)
                if not in_order:
                    out_of_order.append(step.id)
                if missing:
                    gaps.append(EvidenceGap(step.id, missing))
                if in_order and not missing:
                    compliant += 1
            floor = phase_latest
        score = round(compliant / required, 4) if required else 1.0
        return Compliance(score, required, compliant, tuple(out_of_order), tuple(gaps))

    def _flag(
        self, step_id: str, code: FlagCode, measured: float | None, radius: float | None
    ) -> Flag:
        radius_text = format_number(radius) if radius is not None else ""
        if code == "outside_radius":
            assert measured is not None
            message = render(
                code, self.lang, distance=format_number(round(measured)), radius=radius_text
            )
            return Flag(step_id, code, message, distance_m=measured, radius_m=radius)
        if code == "low_accuracy":
            assert measured is not None
            message = render(code, self.lang, accuracy=format_number(measured), radius=radius_text)
            return Flag(step_id, code, message, radius_m=radius)
        return Flag(step_id, code, render(code, self.lang), radius_m=radius)


def requirement_detail(
    compiled: CompiledTemplate,
    requirement: CompiledRequirement,
    values: Mapping[str, Value],
    lang: Lang,
) -> str:
    """Why a gate requirement is not met, in one language."""
    title = compiled.titles[lang][requirement.step_id]
    if requirement.step_id not in values:
        return render("gate_unanswered", lang, title=title)
    if requirement.message is not None:
        return requirement.message.get(lang)
    expected = _value_label(compiled, requirement.step_id, requirement.equals, lang)
    return render("gate_value", lang, title=title, expected=expected)


def _value_label(compiled: CompiledTemplate, step_id: str, value: Value, lang: Lang) -> str:
    if isinstance(value, bool):
        return render("yes" if value else "no", lang)
    step = compiled.steps[step_id].step
    if isinstance(step, ChoiceStep):
        for option in step.options:
            if option.value == value:
                return option.label.get(lang)
    if isinstance(value, (int, float)):
        unit = f" {step.unit.get(lang)}" if isinstance(step, NumberStep) else ""
        return format_number(value) + unit
    return str(value)


def _rejection_message(
    compiled: CompiledTemplate, walk: _Walk, step_id: str, rejection: Rejection, lang: Lang
) -> str:
    step = compiled.steps.get(step_id)
    if step is None:
        return render(rejection.message_key, lang, step=step_id)
    params: dict[str, object] = {"title": compiled.titles[lang][step_id], "step": step_id}
    params.update(rejection.params)
    if rejection.code == "wrong_type":
        params["expected"] = render(f"expects_{params['expects']}", lang)
    if isinstance(step.step, NumberStep):
        params["unit"] = step.step.unit.get(lang)
    if rejection.code == "outcome_not_declared" and step.outcome is not None:
        params["outcome"] = compiled.outcomes[step.outcome].definition.title.get(lang)
    if rejection.code == "phase_locked" and walk.locking_phase is not None:
        phase = compiled.phases[walk.locking_phase]
        unmet = next(r for r in phase.gate if not r.met(walk.values))
        params["phase"] = phase.phase.title.get(lang)
        params["detail"] = requirement_detail(compiled, unmet, walk.values, lang)
    return render(rejection.message_key, lang, **params)


def _answered_at(counted: Mapping[str, Answer], step_id: str) -> datetime | None:
    answer = counted.get(step_id)
    return answer.answered_at if answer is not None else None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def _in_order(
    stamp: datetime, floor: datetime | None, step: CompiledStep, counted: Mapping[str, Answer]
) -> bool:
    """Not answered before a step of an earlier phase, a gate, or a step its condition reads."""
    if floor is not None and stamp < floor:
        return False
    for ref in step.condition_refs:
        earlier = _answered_at(counted, ref)
        if earlier is not None and stamp < earlier:
            return False
    return True


def _missing_evidence(step: CompiledStep, answer: Answer) -> tuple[Evidence, ...]:
    missing: list[Evidence] = []
    if step.needs_timestamp and answer.answered_at is None:
        missing.append("timestamp")
    if step.needs_location and answer.location is None:
        missing.append("location")
    if step.needs_photo and not answer.photo_ids:
        missing.append("photo")
    return tuple(missing)
