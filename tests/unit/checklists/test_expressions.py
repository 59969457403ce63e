"""The condition language: tokenizer, parser, type checker and three-valued evaluation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from checklists.expressions import (
    Answered,
    BoolOp,
    Compare,
    ConditionError,
    Constant,
    Not,
    StepRef,
    Symbol,
    Usage,
    check_types,
    compile_condition,
    parse_condition,
    step_references,
    tokenize,
)

SYMBOLS = {
    "adult": Symbol("bool"),
    "reading": Symbol("number"),
    "photos": Symbol("number"),
    "reason": Symbol("string", frozenset({"parts", "other"})),
    "note": Symbol("string"),
    "serial": Symbol("opaque"),
}


def run(source: str, values: dict[str, Any]) -> Any:
    node = parse_condition(source)
    check_types(node, SYMBOLS)
    return compile_condition(node)(values)


def test_tokenizer_reads_every_token_kind() -> None:
    tokens = tokenize("answered(x) and reading >= -1.5 or note != 'it\\'s'")
    assert [(t.kind, t.text) for t in tokens] == [
        ("name", "answered"),
        ("lparen", "("),
        ("name", "x"),
        ("rparen", ")"),
        ("name", "and"),
        ("name", "reading"),
        ("op", ">="),
        ("minus", "-"),
        ("number", "1.5"),
        ("name", "or"),
        ("name", "note"),
        ("op", "!="),
        ("string", "'it\\'s'"),
        ("end", ""),
    ]
    assert tokens[-2].value == "it's"


def test_parser_builds_precedence_or_below_and_below_not() -> None:
    node = parse_condition("not adult or reading > 1 and answered(note)")
    assert isinstance(node, BoolOp)
    assert node.op == "or"
    left, right = node.operands
    assert isinstance(left, Not)
    assert isinstance(left.operand, StepRef)
    assert isinstance(right, BoolOp)
    assert right.op == "and"
    comparison, answered = right.operands
    assert isinstance(comparison, Compare)
    assert comparison.op == ">"
    assert comparison.right == Constant(1, comparison.right.position)
    assert isinstance(answered, Answered)
    assert answered.step_id == "note"


def test_parentheses_override_precedence() -> None:
    node = parse_condition("(adult or adult) and adult")
    assert isinstance(node, BoolOp)
    assert node.op == "and"
    assert isinstance(node.operands[0], BoolOp)
    assert node.operands[0].op == "or"


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("reading == 5", {"reading": 5}, True),
        ("reading == 5", {"reading": 5.0}, True),
        ("reading != 5", {"reading": 4}, True),
        ("reading < 5", {"reading": 4.99}, True),
        ("reading < 5", {"reading": 5}, False),
        ("reading <= 5", {"reading": 5}, True),
        ("reading > 5", {"reading": 5}, False),
        ("reading >= 5", {"reading": 5}, True),
        ("reading > -2.5", {"reading": -2}, True),
        ("reason == 'parts'", {"reason": "parts"}, True),
        ('reason == "other"', {"reason": "parts"}, False),
        ("adult == true", {"adult": True}, True),
        ("adult == false", {"adult": True}, False),
        ("adult", {"adult": True}, True),
        ("not adult", {"adult": True}, False),
        ("adult and reading > 1", {"adult": True, "reading": 2}, True),
        ("adult and reading > 1", {"adult": False, "reading": 2}, False),
        ("adult or reading > 1", {"adult": False, "reading": 2}, True),
        ("adult or reading > 1", {"adult": False, "reading": 0}, False),
        ("answered(serial)", {"serial": True}, True),
        ("answered(serial)", {}, False),
        ("not answered(note)", {}, True),
    ],
)
def test_operators_evaluate(source: str, values: dict[str, Any], expected: bool) -> None:
    assert run(source, values) is expected


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        # An unanswered step is unknown: no comparison with it is true, not even '!='.
        ("reading == 5", {}, None),
        ("reading != 5", {}, None),
        ("not adult", {}, None),
        # Kleene logic: a known operand decides when it can.
        ("adult and reading > 1", {"adult": False}, False),
        ("adult and reading > 1", {"adult": True}, None),
        ("adult or reading > 1", {"adult": True}, True),
        ("adult or reading > 1", {"adult": False}, None),
    ],
)
def test_unanswered_steps_are_unknown(
    source: str, values: dict[str, Any], expected: bool | None
) -> None:
    assert run(source, values) is expected


@pytest.mark.parametrize(
    ("source", "column", "reason"),
    [
        ("", 1, "empty condition"),
        ("adult ==", 9, "expected a value"),
        ("(adult", 7, "expected ')'"),
        ("adult = true", 7, "use '=='"),
        ("reading < 1 < 2", 13, "cannot be chained"),
        ("adult true", 7, "unexpected 'true'"),
        ("reason == 'parts", 11, "unterminated string"),
        ("open(note)", 1, "unknown function"),
        ("answered(1)", 10, "takes a step id"),
        ("answered", 1, "must be called"),
        ("12abc", 1, "malformed number"),
        ("adult and", 10, "expected a value"),
        ("- adult", 1, "must be followed by a number"),
        ("note.upper", 5, "unexpected character"),
        ("__import__('os')", 1, "unknown function"),
    ],
)
def test_syntax_errors_name_the_column(source: str, column: int, reason: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(source)
    assert caught.value.position + 1 == column
    assert reason in caught.value.reason
    assert f"(column {column})" in str(caught.value)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("reading", "must be true or false"),
        ("reading == 'high'", "cannot compare a number with a string"),
        ("adult == 1", "cannot compare a bool with a number"),
        ("note < 'x'", "'<' needs numbers"),
        ("reason == 'lost'", "'lost' is not an option of step 'reason'"),
        ("serial == 'SN1'", "use answered(serial)"),
        ("not reading", "'not' needs true/false operands"),
        ("adult and note", "'and' needs true/false operands"),
        ("1 == 1", "comparison of two constants"),
    ],
)
def test_type_errors(source: str, reason: str) -> None:
    with pytest.raises(ConditionError, match=re.escape(reason)):
        check_types(parse_condition(source), SYMBOLS)


def test_references_and_usage_are_collected() -> None:
    node = parse_condition(
        "reason == 'parts' and (reading > 3 or answered(serial)) and photos == reading"
    )
    assert [name for name, _ in step_references(node)] == [
        "reason",
        "reading",
        "serial",
        "photos",
        "reading",
    ]
    usage = Usage()
    check_types(node, SYMBOLS, usage)
    assert usage.constants == {"reason": {"parts"}, "reading": {3}}
    assert usage.linked == {frozenset({"photos", "reading"})}


def test_booleans_never_equal_numbers_at_runtime() -> None:
    # The type checker forbids this; the evaluator still refuses Python's True == 1.
    node = Compare("==", StepRef("a", 0), Constant(1, 5), 2)
    assert compile_condition(node)({"a": True}) is None
