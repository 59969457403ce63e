"""Properties of the engine over arbitrary answers to the shipped templates."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from checklists import (
    OUTCOMES,
    Answer,
    AnswerRejected,
    CompiledTemplate,
    SerialEntry,
    evaluate,
    load_templates,
    validate_answer,
)
from checklists.schema import (
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    NumberStep,
    PersonNameStep,
    PhotoStep,
    SerialStep,
    SignatureStep,
    Step,
    TextStep,
    YesNoStep,
)
from tests.unit.checklists.builders import AT_SITE, FAR_AWAY, SITE, START, complete_answers

TEMPLATES = {compiled.key: compiled for compiled in load_templates()}
COMPLETE = {key: complete_answers(template) for key, template in TEMPLATES.items()}


def value_strategy(step: Step) -> st.SearchStrategy[dict[str, Any]]:
    """Answer fields for a step: mostly plausible, sometimes wrong."""
    if isinstance(step, ConfirmStep):
        return st.fixed_dictionaries({"value": st.sampled_from([True, True, False, "yes"])})
    if isinstance(step, YesNoStep):
        return st.fixed_dictionaries({"value": st.booleans()})
    if isinstance(step, ChoiceStep):
        options = [option.value for option in step.options]
        return st.fixed_dictionaries({"value": st.sampled_from([*options, "bogus"])})
    if isinstance(step, (TextStep, PersonNameStep)):
        return st.fixed_dictionaries({"value": st.sampled_from(["Айгүл", "", "   ", 7])})
    if isinstance(step, NumberStep):
        number = st.floats(min_value=-10, max_value=2e6, allow_nan=False) | st.integers(-5, 100)
        return st.fixed_dictionaries({"value": number})
    if isinstance(step, PhotoStep):
        ids = st.lists(st.sampled_from([f"p{n}" for n in range(14)]), max_size=12, unique=True)
        return st.fixed_dictionaries({"photo_ids": ids.map(tuple)})
    if isinstance(step, SignatureStep):
        return st.fixed_dictionaries({"value": st.sampled_from(["sig-1", ""])})
    if isinstance(step, GeoCheckStep):
        return st.fixed_dictionaries({"location": st.sampled_from([AT_SITE, FAR_AWAY, None])})
    assert isinstance(step, SerialStep)
    entry = st.builds(
        SerialEntry,
        value=st.sampled_from(["SN-1", "SN-2", "", "SN-1 "]),
        method=st.sampled_from(["scanned", "typed"]),
    )
    return st.fixed_dictionaries({"value": st.lists(entry, max_size=3).map(tuple)})


@st.composite
def visits(draw: st.DrawFn) -> tuple[CompiledTemplate, dict[str, Answer]]:
    """A template and answers to its steps: a complete visit with a few answers spoilt."""
    key = draw(st.sampled_from(sorted(TEMPLATES)))
    template = TEMPLATES[key]
    answers = dict(COMPLETE[key])
    # Few spoilt steps keep completion within reach, so the properties get exercised.
    spoilt = draw(st.lists(st.sampled_from(sorted(template.steps)), max_size=8, unique=True))
    for step_id in spoilt:
        if draw(st.booleans()):
            answers.pop(step_id, None)
            continue
        fields = draw(value_strategy(template.steps[step_id].step))
        minutes = draw(st.none() | st.integers(0, 600))
        at = START + timedelta(minutes=minutes) if minutes is not None else None
        location = fields.pop("location", draw(st.sampled_from([None, AT_SITE])))
        answers[step_id] = Answer(step_id=step_id, answered_at=at, location=location, **fields)
    return template, answers


outcomes = st.none() | st.sampled_from(OUTCOMES)


@settings(max_examples=300)
@given(visits(), outcomes, st.booleans())
def test_completion_is_never_allowed_with_a_visible_required_step_unanswered(
    visit: tuple[CompiledTemplate, dict[str, Answer]], outcome: Any, with_site: bool
) -> None:
    template, answers = visit
    state = evaluate(template, answers, site=SITE if with_site else None, outcome=outcome)
    answered = set(state.answered_steps)
    unanswered_required = [
        step_id
        for step_id in state.visible_steps
        if template.steps[step_id].required and step_id not in answered
    ]
    assert set(unanswered_required) == set(state.missing_required_steps)
    if state.completion_allowed:
        assert unanswered_required == []
        assert all(p.status == "done" for p in state.phases)
        assert state.outcome == ("completed" if outcome == "completed" else None)
    if state.outcome == "completed":
        assert state.completion_allowed
    assert answered <= set(state.visible_steps)
    assert answered | {issue.step_id for issue in state.rejected_answers} == set(answers)
    assert 0 <= state.compliance.score <= 1


@settings(max_examples=100)
@given(visits(), outcomes, st.randoms(use_true_random=False))
def test_state_does_not_depend_on_the_order_answers_arrive_in(
    visit: tuple[CompiledTemplate, dict[str, Answer]], outcome: Any, shuffler: random.Random
) -> None:
    template, answers = visit
    keys = list(answers)
    shuffler.shuffle(keys)
    shuffled = {key: answers[key] for key in keys}
    first = evaluate(template, answers, site=SITE, outcome=outcome)
    second = evaluate(template, shuffled, site=SITE, outcome=outcome)
    assert msgspec.json.encode(first) == msgspec.json.encode(second)


@settings(max_examples=100)
@given(st.sampled_from(sorted(TEMPLATES)), st.randoms(use_true_random=False))
def test_answers_synced_in_any_order_end_in_the_same_state(
    key: str, shuffler: random.Random
) -> None:
    """An offline phone re-sends what was refused; the order it sends in does not matter."""
    template = TEMPLATES[key]
    queue = list(COMPLETE[key].values())
    shuffler.shuffle(queue)
    accepted: dict[str, Answer] = {}
    refusals: set[str] = set()
    while queue:
        refused = []
        for answer in queue:
            try:
                validate_answer(template, accepted, answer, site=SITE)
            except AnswerRejected as error:
                refusals.add(error.code)
                refused.append(answer)
            else:
                accepted[answer.step_id] = answer
        assert len(refused) < len(queue), "no progress"
        queue = refused
    # Only "not yet" refusals: a valid answer is never refused for its content.
    assert refusals <= {"phase_locked", "step_hidden"}
    final = evaluate(template, accepted, site=SITE, outcome="completed")
    expected = evaluate(template, COMPLETE[key], site=SITE, outcome="completed")
    assert msgspec.json.encode(final) == msgspec.json.encode(expected)
    assert final.outcome == "completed"


@given(visits())
def test_flags_follow_far_positions(visit: tuple[CompiledTemplate, dict[str, Answer]]) -> None:
    template, answers = visit
    state = evaluate(template, answers, site=SITE)
    flagged = {flag.step_id for flag in state.flags if flag.code == "outside_radius"}
    far = {
        step_id
        for step_id in state.answered_steps
        if template.steps[step_id].is_geo and answers[step_id].location == FAR_AWAY
    }
    assert flagged == far
