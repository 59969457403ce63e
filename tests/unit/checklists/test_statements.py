"""Customer-facing statements: every act row of the newest templates has one, in ru/kk/en."""

from __future__ import annotations

import msgspec

from checklists import load_templates, validate_template
from checklists.schema import Text
from checklists.validation import is_customer_visible, iter_steps

QUESTION_MARK = "?"


def test_newest_version_of_every_template_has_a_statement_per_act_row() -> None:
    templates = load_templates()
    for key in tuple(templates.keys()):
        template = templates.get(key).template
        visible = [e for e in iter_steps(template) if is_customer_visible(template, e)]
        assert visible, key
        for entry in visible:
            statement = entry.step.statement
            assert statement is not None, (key, entry.step.id)
            for lang in ("ru", "kk", "en"):
                # Statements say what was done; questions belong to the technician's app.
                assert QUESTION_MARK not in statement.get(lang), (key, entry.step.id, lang)


def test_preparation_before_departure_is_internal() -> None:
    templates = load_templates()
    for key in tuple(templates.keys()):
        template = templates.get(key).template
        internal = {e.step.id for e in iter_steps(template) if not is_customer_visible(template, e)}
        assert {"supervisor_check", "materials_ready", "geo_mismatch_note"} <= internal, key
        assert "show_id" not in internal


def test_a_template_with_statements_needs_one_on_every_act_row() -> None:
    template = load_templates().get("repair").template
    phases = list(template.phases)
    work = phases[2]
    steps = list(work.steps)
    steps[0] = msgspec.structs.replace(steps[0], statement=None)
    phases[2] = msgspec.structs.replace(work, steps=tuple(steps))
    issues = validate_template(msgspec.structs.replace(template, phases=tuple(phases)))
    assert [(i.step_id, i.field) for i in issues] == [(steps[0].id, "statement")]


def test_a_template_without_any_statement_stays_valid() -> None:
    # Published v1 templates predate statements and must keep loading.
    assert validate_template(load_templates().get("repair", 1).template) == []


def test_internal_step_needs_no_statement() -> None:
    template = load_templates().get("repair").template
    phases = list(template.phases)
    arrival = phases[1]
    steps = [
        msgspec.structs.replace(s, statement=None, internal=True) if s.id == "greeting" else s
        for s in arrival.steps
    ]
    phases[1] = msgspec.structs.replace(arrival, steps=tuple(steps))
    assert validate_template(msgspec.structs.replace(template, phases=tuple(phases))) == []
    assert isinstance(steps[0].title, Text)
