"""Builders for the checklist tests: small inline templates and valid answers for any step."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

from checklists import (
    Answer,
    CompiledTemplate,
    GeoPoint,
    Location,
    SerialEntry,
    Step,
    Template,
    evaluate,
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
    TextStep,
    YesNoStep,
)

ALMATY = timezone(timedelta(hours=5))
START = datetime(2025, 3, 14, 10, 0, tzinfo=ALMATY)
SITE = GeoPoint(lat=43.238949, lon=76.889709)
# About 11 m north of SITE.
AT_SITE = Location(lat=43.239049, lon=76.889709, accuracy_m=8.0)
# About 1.1 km north of SITE.
FAR_AWAY = Location(lat=43.248949, lon=76.889709, accuracy_m=8.0)


def text(value: str) -> dict[str, str]:
    """A Text mapping with the same string in every language."""
    return {"ru": value, "kk": value, "en": value}


def step(step_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    """A step mapping; the title is the step id."""
    return {"id": step_id, "kind": kind, "title": text(step_id), **fields}


def phase(phase_id: str, steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A phase mapping."""
    return {"id": phase_id, "title": text(phase_id), "steps": steps, **fields}


def outcome(outcome_id: str, **fields: Any) -> dict[str, Any]:
    """An outcome mapping."""
    return {"id": outcome_id, "title": text(outcome_id), **fields}


def template_data(
    phases: list[dict[str, Any]],
    outcomes: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A whole template as plain data (key `sample`, version 1, a `completed` outcome)."""
    return {
        "key": "sample",
        "version": 1,
        "title": text("Sample"),
        "phases": phases,
        "outcomes": outcomes if outcomes is not None else [outcome("completed")],
        **fields,
    }


def build(
    phases: list[dict[str, Any]],
    outcomes: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Template:
    """A Template struct from plain data (schema-checked, not yet validated)."""
    return msgspec.convert(template_data(phases, outcomes, **fields), Template)


def one_step(kind: str, **fields: Any) -> Template:
    """A template with a single required step `s` of the given kind."""
    return build([phase("only", [step("s", kind, **fields)])])


def answer(step_id: str, value: Any = None, **fields: Any) -> Answer:
    """An answer stamped at START unless answered_at is given."""
    fields.setdefault("answered_at", START)
    return Answer(step_id=step_id, value=value, **fields)


def valid_answer(definition: Step, at: datetime = START) -> Answer:
    """A valid answer for any step, carrying every piece of evidence the step asks for."""
    value: Any = None
    photo_ids: tuple[str, ...] = ()
    location = AT_SITE if "location" in definition.evidence else None
    if isinstance(definition, (ConfirmStep, YesNoStep)):
        value = True
    elif isinstance(definition, ChoiceStep):
        value = definition.options[0].value
    elif isinstance(definition, TextStep):
        value = "Кабель повреждён в подъезде"
    elif isinstance(definition, PersonNameStep):
        value = "Әлия Нұрланова"
    elif isinstance(definition, NumberStep):
        value = definition.min if definition.min is not None else 1.0
    elif isinstance(definition, PhotoStep):
        count = max(definition.min_count, 1)
        photo_ids = tuple(f"photo-{definition.id}-{n}" for n in range(count))
    elif isinstance(definition, SignatureStep):
        value = f"signature-{definition.id}"
    elif isinstance(definition, GeoCheckStep):
        location = AT_SITE
    elif isinstance(definition, SerialStep):
        value = tuple(
            SerialEntry(value=f"SN-{definition.id}-{n}", method="scanned")
            for n in range(max(definition.min_count, 1))
        )
    if "photo" in definition.evidence and not photo_ids:
        photo_ids = (f"evidence-{definition.id}",)
    return Answer(
        step_id=definition.id,
        value=value,
        answered_at=at,
        location=location,
        photo_ids=photo_ids,
    )


def complete_answers(template: CompiledTemplate, start: datetime = START) -> dict[str, Answer]:
    """Answers to every required step, phase by phase, one minute apart ("yes" everywhere)."""
    answers: dict[str, Answer] = {}
    minute = 0
    state = evaluate(template, answers, site=SITE)
    while state.next_required_steps:
        for step_id in state.next_required_steps:
            minute += 1
            at = start + timedelta(minutes=minute)
            answers[step_id] = valid_answer(template.steps[step_id].step, at)
        state = evaluate(template, answers, site=SITE)
    return answers
