"""Bad templates are refused with the exact place: file, line, path, step and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checklists import (
    TemplateError,
    TemplateIssue,
    check_directory,
    compile_template,
    load_template_file,
    parse_template,
    validate_template,
)
from tests.unit.checklists.builders import build, outcome, phase, step

UNIT = {"ru": "шт", "kk": "дана", "en": "pcs"}


def issues_of(
    phases: list[dict[str, Any]], outcomes: list[dict[str, Any]] | None = None, **fields: Any
) -> list[TemplateIssue]:
    return validate_template(build(phases, outcomes, **fields))


def only_issue(*args: Any, **kwargs: Any) -> TemplateIssue:
    issues = issues_of(*args, **kwargs)
    assert len(issues) == 1, [issue.describe() for issue in issues]
    return issues[0]


def test_a_sound_template_has_no_issues() -> None:
    assert issues_of([phase("p", [step("a", "yes_no"), step("b", "text", visible_when="a")])]) == []


def test_duplicate_step_ids() -> None:
    issue = only_issue([phase("p", [step("a", "confirm")]), phase("q", [step("a", "confirm")])])
    assert issue.path == "$.phases[1].steps[0].id"
    assert issue.step_id == "a"
    assert issue.field == "id"
    assert issue.message == "duplicate step id 'a' (first used at $.phases[0].steps[0])"


def test_duplicate_ids_of_phases_outcomes_and_options() -> None:
    options = [{"value": "x", "label": UNIT}, {"value": "x", "label": UNIT}]
    issues = issues_of(
        [phase("p", [step("a", "choice", options=options)]), phase("p", [step("b", "confirm")])],
        [outcome("completed"), outcome("completed")],
    )
    assert {(i.path, i.message) for i in issues} == {
        ("$.phases[1].id", "duplicate phase id 'p'"),
        ("$.phases[0].steps[0].options[1].value", "duplicate option id 'x'"),
        ("$.outcomes[1].id", "duplicate outcome id 'completed'"),
    }


def test_reserved_word_as_step_id() -> None:
    issue = only_issue([phase("p", [step("answered", "confirm")])])
    assert issue.message == "'answered' is a reserved word of the condition language"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("ghost == true", "unknown step 'ghost' (column 1)"),
        (
            "later == true",
            "step 'later' comes later; a condition may only use earlier steps (column 1)",
        ),
        ("answered(b)", "a step's condition cannot refer to the step itself (column 10)"),
        ("a ==", "syntax error: expected a value, found the end of the condition (column 5)"),
        ("a == 'x'", "cannot compare a bool with a string (column 3)"),
    ],
)
def test_condition_problems_point_at_the_field(condition: str, message: str) -> None:
    issue = only_issue(
        [
            phase(
                "p",
                [
                    step("a", "yes_no"),
                    step("b", "text", visible_when=condition, required=False),
                    step("later", "yes_no"),
                ],
            )
        ]
    )
    assert issue.path == "$.phases[0].steps[1].visible_when"
    assert issue.step_id == "b"
    assert issue.field == "visible_when"
    assert issue.message == message


def test_condition_on_a_choice_must_use_a_listed_option() -> None:
    options = [{"value": "line", "label": UNIT}, {"value": "modem", "label": UNIT}]
    issue = only_issue(
        [
            phase(
                "p",
                [
                    step("cause", "choice", options=options),
                    step("note", "text", visible_when="cause == 'router'"),
                ],
            )
        ]
    )
    assert (
        issue.message
        == "'router' is not an option of step 'cause' (options: line, modem) (column 10)"
    )


def test_required_step_hidden_forever() -> None:
    issue = only_issue(
        [
            phase(
                "p",
                [
                    step("count", "number", unit=UNIT, min=0, max=10),
                    step("never", "text", visible_when="count > 10"),
                ],
            )
        ]
    )
    assert issue.step_id == "never"
    assert issue.field == "visible_when"
    assert issue.message == "this condition can never be true, so the step would never be shown"


def test_contradiction_across_steps_is_found() -> None:
    issue = only_issue(
        [
            phase(
                "p",
                [
                    step("adult", "yes_no"),
                    step("inside", "confirm", visible_when="adult == true"),
                    step("odd", "text", visible_when="answered(inside) and adult == false"),
                ],
            )
        ]
    )
    assert issue.step_id == "odd"


def test_step_visible_only_while_its_phase_is_locked() -> None:
    issue = only_issue(
        [
            phase("arrival", [step("adult", "yes_no")]),
            phase(
                "work",
                [step("w", "confirm"), step("dead", "text", visible_when="adult == false")],
                gate=[{"step": "adult", "equals": True}],
            ),
        ]
    )
    assert issue.step_id == "dead"
    assert issue.message == (
        "this condition can only be true while phase 'work' is locked, "
        "so the step can never be answered"
    )


@pytest.mark.parametrize(
    ("gate", "path", "message"),
    [
        ([{"step": "ghost"}], "$.phases[1].gate[0].step", "gate names unknown step 'ghost'"),
        (
            [{"step": "w"}],
            "$.phases[1].gate[0].step",
            "gate of phase 'work' names step 'w' of phase 'work'; a phase gate may only name "
            "steps of earlier phases, or the phase could never open",
        ),
        (
            [{"step": "adult", "equals": "yes"}],
            "$.phases[1].gate[0].equals",
            "a yes_no step equals true or false",
        ),
        (
            [{"step": "adult"}, {"step": "adult"}],
            "$.phases[1].gate[1]",
            "step 'adult' is named twice in this gate",
        ),
    ],
)
def test_gate_problems(gate: list[dict[str, Any]], path: str, message: str) -> None:
    issue = only_issue(
        [
            phase("arrival", [step("adult", "yes_no")]),
            phase("work", [step("w", "confirm")], gate=gate),
        ]
    )
    assert issue.path == path
    assert issue.field in {"gate", "equals"}
    assert issue.message == message


def test_unreachable_completion_names_the_conflicting_requirement() -> None:
    issues = issues_of(
        [
            phase("arrival", [step("adult", "yes_no")]),
            phase("work", [step("w", "confirm")], gate=[{"step": "adult", "equals": True}]),
        ],
        [outcome("completed", gate=[{"step": "adult", "equals": False}])],
    )
    assert [(i.path, i.step_id) for i in issues] == [
        ("$.phases[1].gate[0]", "adult"),
        ("$.outcomes[0].gate[0]", "adult"),
    ]
    assert all(i.message.startswith("completion can never be allowed") for i in issues)


def test_completion_gate_on_a_step_that_may_stay_hidden_is_fine_when_reachable() -> None:
    issues = issues_of(
        [
            phase(
                "p",
                [
                    step("handover", "yes_no"),
                    step("sign", "signature", document="handover_act", visible_when="handover"),
                ],
            )
        ],
        [outcome("completed", gate=[{"step": "sign"}])],
    )
    assert issues == []


def test_template_must_define_completed() -> None:
    issue = only_issue([phase("p", [step("a", "confirm")])], [outcome("no_access")])
    assert issue.path == "$.outcomes"
    assert issue.message == "the template must define the 'completed' outcome"


def test_automatic_outcome_that_can_never_happen() -> None:
    issue = only_issue(
        [phase("p", [step("a", "confirm")])],
        [outcome("completed"), outcome("waiting_for_adult", auto_when="a == false")],
    )
    # confirm steps are only ever true
    assert issue.path == "$.outcomes[1].auto_when"
    assert issue.message == "this condition can never be true"


def test_standing_rules_need_one_acknowledgement() -> None:
    rules = [{"id": "no_money", "text": UNIT}]
    issue = only_issue([phase("p", [step("a", "confirm")])], standing_rules=rules)
    assert issue.path == "$.standing_rules"
    assert "found 0" in issue.message


@pytest.mark.parametrize(
    ("kind", "fields", "field", "message"),
    [
        ("number", {"unit": UNIT, "min": 5, "max": 1}, "min", "min (5) is greater than max (1)"),
        (
            "photo",
            {"min_count": 3, "max_count": 2},
            "min_count",
            "min_count (3) exceeds max_count (2)",
        ),
        ("serial", {"min_count": 0, "max_count": 0}, "max_count", "max_count must be at least 1"),
        ("geo_check", {"radius_m": 0}, "radius_m", "radius_m must be a positive number of metres"),
        ("text", {"max_length": 0}, "max_length", "max_length must be at least 1"),
        (
            "choice",
            {"options": [{"value": "x", "label": UNIT}]},
            "options",
            "a choice needs at least two options",
        ),
    ],
)
def test_inconsistent_step_fields(
    kind: str, fields: dict[str, Any], field: str, message: str
) -> None:
    issue = only_issue([phase("p", [step("s", kind, **fields)])])
    assert issue.path == f"$.phases[0].steps[0].{field}"
    assert issue.field == field
    assert issue.message == message


def test_compile_refuses_an_invalid_template() -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template(build([phase("p", [step("a", "confirm", visible_when="nope")])]))
    assert caught.value.issues[0].step_id == "a"


# ---------------------------------------------------------------- files


GOOD = """\
key: sample
version: 1
title: {ru: Пример, kk: Мысал, en: Sample}
phases:
  - id: p
    title: {ru: Этап, kk: Кезең, en: Phase}
    steps:
      - id: a
        kind: yes_no
        title: {ru: А, kk: А, en: A}
      - id: b
        kind: text
        visible_when: a == true
        title: {ru: Б, kk: Б, en: B}
outcomes:
  - id: completed
    title: {ru: Готово, kk: Дайын, en: Done}
"""


def test_condition_error_carries_file_and_line() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(GOOD.replace("a == true", "a == tru"), file="sample.v1.yaml")
    (issue,) = caught.value.issues
    assert issue.file == "sample.v1.yaml"
    assert issue.line == 13
    assert issue.describe() == (
        "sample.v1.yaml:13: $.phases[0].steps[1].visible_when (step b) [visible_when]: "
        "unknown step 'tru' (column 6)"
    )


def test_schema_error_names_the_step_and_field() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(
            GOOD.replace("kind: text", "kind: text\n        max_lenght: 3"), file="f.yaml"
        )
    (issue,) = caught.value.issues
    assert issue.path == "$.phases[0].steps[1]"
    assert issue.step_id == "b"
    assert issue.field == "max_lenght"
    assert issue.line == 11
    assert "unknown field `max_lenght`" in issue.message


def test_wrong_kind_is_reported() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(GOOD.replace("kind: text", "kind: essay"), file="f.yaml")
    (issue,) = caught.value.issues
    assert issue.path == "$.phases[0].steps[1].kind"
    assert issue.message == "Invalid value 'essay'"


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(GOOD.replace("  - id: p", "  - id: [p"), file="f.yaml")
    (issue,) = caught.value.issues
    assert issue.line is not None
    assert issue.message.startswith("YAML:")


def test_duplicate_yaml_keys_are_refused() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(GOOD.replace("version: 1\n", "version: 1\nversion: 2\n"), file="f.yaml")
    (issue,) = caught.value.issues
    assert issue.path == "$.version"
    assert issue.line == 3
    assert issue.message == "duplicate key 'version'"


def test_file_name_must_match_key_and_version(tmp_path: Path) -> None:
    path = tmp_path / "sample.v2.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template_file(path)
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("$.version", "version 1 does not match the file name")
    ]


def test_directory_check_collects_every_file(tmp_path: Path) -> None:
    (tmp_path / "sample.v1.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "broken.v1.yaml").write_text(
        GOOD.replace("sample", "broken").replace("a == true", "a =="), encoding="utf-8"
    )
    (tmp_path / "notes.yaml").write_text(GOOD, encoding="utf-8")
    templates, issues = check_directory(tmp_path)
    assert [t.key for t in templates] == ["sample"]
    assert [(i.file, i.step_id) for i in issues] == [("broken.v1.yaml", "b"), ("notes.yaml", None)]
