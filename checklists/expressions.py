"""A small condition language over earlier answers, parsed and compiled without eval or exec.

Grammar (lowest precedence first)::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=") operand]
    operand    := NUMBER | STRING | "true" | "false" | STEP_ID
                | "answered" "(" STEP_ID ")" | "(" condition ")"

A step id stands for its answer. An unanswered (or hidden) step is *unknown*: comparisons
with it are unknown and `and`/`or`/`not` follow three-valued (Kleene) logic, so a condition
becomes true only once the answers it depends on are in. `answered(x)` is always true or false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

Scalar = bool | int | float | str
# What a step contributes to conditions; None means unknown.
Value = Scalar | None
Values = Mapping[str, Value]
Compiled = Callable[[Values], Value]

ValueType = Literal["bool", "number", "string", "opaque"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]

KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
FUNCTIONS = frozenset({"answered"})
RESERVED_NAMES = KEYWORDS | FUNCTIONS

_COMPARE_OPS: tuple[CompareOp, ...] = ("==", "!=", "<=", ">=", "<", ">")
_ORDERING_OPS = frozenset({"<", "<=", ">", ">="})
_PY_OPS: dict[str, Callable[[Scalar, Scalar], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ConditionError(ValueError):
    """A condition that cannot be parsed or does not type-check, with its column (1-based)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (column {position + 1})")
        self.reason = message
        self.position = position


# ---------------------------------------------------------------------------- tokenizer


TokenKind = Literal["number", "string", "name", "op", "lparen", "rparen", "minus", "end"]


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical unit and where it starts in the source."""

    kind: TokenKind
    text: str
    position: int
    value: Scalar | None = None


def tokenize(source: str) -> list[Token]:
    """Split a condition into tokens; raises ConditionError on a character it cannot use."""
    tokens: list[Token] = []
    i = 0
    length = len(source)
    while i < length:
        char = source[i]
        if char.isspace():
            i += 1
        elif char.isdigit() or (char == "." and i + 1 < length and source[i + 1].isdigit()):
            i = _read_number(source, i, tokens)
        elif char in "'\"":
            i = _read_string(source, i, tokens)
        elif char.isalpha() or char == "_":
            start = i
            while i < length and (source[i].isalnum() or source[i] == "_"):
                i += 1
            tokens.append(Token("name", source[start:i], start))
        elif char == "(":
            tokens.append(Token("lparen", char, i))
            i += 1
        elif char == ")":
            tokens.append(Token("rparen", char, i))
            i += 1
        elif char == "-":
            tokens.append(Token("minus", char, i))
            i += 1
        else:
            i = _read_operator(source, i, tokens)
    tokens.append(Token("end", "", length))
    return tokens


def _read_number(source: str, start: int, tokens: list[Token]) -> int:
    i = start
    length = len(source)
    seen_dot = False
    while i < length and (source[i].isdigit() or (source[i] == "." and not seen_dot)):
        seen_dot = seen_dot or source[i] == "."
        i += 1
    if i < length and (source[i].isalpha() or source[i] == "_"):
        raise ConditionError(f"malformed number {source[start : i + 1]!r}", start)
    text = source[start:i]
    value: int | float = float(text) if seen_dot else int(text)
    tokens.append(Token("number", text, start, value))
    return i


def _read_string(source: str, start: int, tokens: list[Token]) -> int:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in (quote, "\\"):
            chars.append(source[i + 1])
            i += 2
        elif char == quote:
            tokens.append(Token("string", source[start : i + 1], start, "".join(chars)))
            return i + 1
        else:
            chars.append(char)
            i += 1
    raise ConditionError("unterminated string", start)


def _read_operator(source: str, start: int, tokens: list[Token]) -> int:
    for op in _COMPARE_OPS:
        if source.startswith(op, start):
            tokens.append(Token("op", op, start))
            return start + len(op)
    if source[start] == "=":
        raise ConditionError("use '==' to compare", start)
    raise ConditionError(f"unexpected character {source[start]!r}", start)


# ---------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class Constant:
    """A constant: number, string, true or false."""

    value: Scalar
    position: int


@dataclass(frozen=True, slots=True)
class StepRef:
    """The answer of a step."""

    step_id: str
    position: int


@dataclass(frozen=True, slots=True)
class Answered:
    """answered(step_id): whether the step has a counted answer."""

    step_id: str
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    """Logical negation."""

    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class BoolOp:
    """`and` or `or` over two or more operands."""

    op: Literal["and", "or"]
    operands: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison of two operands."""

    op: CompareOp
    left: Node
    right: Node
    position: int


Node = Constant | StepRef | Answered | Not | BoolOp | Compare


# ---------------------------------------------------------------------------- parser


def parse_condition(source: str) -> Node:
    """Parse a condition into a syntax tree; raises ConditionError with the column."""
    parser = _Parser(tokenize(source))
    if parser.peek().kind == "end":
        raise ConditionError("empty condition", 0)
    node = parser.parse_or()
    trailing = parser.peek()
    if trailing.kind != "end":
        raise ConditionError(f"unexpected {trailing.text!r}", trailing.position)
    return node


class _Parser:
    """Recursive descent over the token list, one method per grammar rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text == word

    def parse_or(self) -> Node:
        return self._parse_bool_op("or", self.parse_and)

    def parse_and(self) -> Node:
        return self._parse_bool_op("and", self.parse_not)

    def _parse_bool_op(self, word: Literal["and", "or"], parse_operand: Callable[[], Node]) -> Node:
        start = self.peek().position
        operands = [parse_operand()]
        while self.at_keyword(word):
            self.advance()
            operands.append(parse_operand())
        if len(operands) == 1:
            return operands[0]
        return BoolOp(word, tuple(operands), start)

    def parse_not(self) -> Node:
        if self.at_keyword("not"):
            token = self.advance()
            return Not(self.parse_not(), token.position)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left = self.parse_operand()
        token = self.peek()
        if token.kind != "op":
            return left
        self.advance()
        right = self.parse_operand()
        follower = self.peek()
        if follower.kind == "op":
            raise ConditionError("comparisons cannot be chained; use 'and'", follower.position)
        op: CompareOp = _as_compare_op(token.text)
        return Compare(op, left, right, token.position)

    def parse_operand(self) -> Node:
        token = self.advance()
        if token.kind in ("number", "string"):
            assert token.value is not None
            return Constant(token.value, token.position)
        if token.kind == "minus":
            number = self.advance()
            if number.kind != "number" or not isinstance(number.value, (int, float)):
                raise ConditionError("'-' must be followed by a number", token.position)
            return Constant(-number.value, token.position)
        if token.kind == "lparen":
            inner = self.parse_or()
            closing = self.advance()
            if closing.kind != "rparen":
                raise ConditionError(f"expected ')', found {_describe(closing)}", closing.position)
            return inner
        if token.kind == "name":
            return self._parse_name(token)
        raise ConditionError(f"expected a value, found {_describe(token)}", token.position)

    def _parse_name(self, token: Token) -> Node:
        if token.text in ("true", "false"):
            return Constant(token.text == "true", token.position)
        if token.text in ("and", "or", "not"):
            raise ConditionError(f"expected a value, found {token.text!r}", token.position)
        if self.peek().kind == "lparen":
            if token.text not in FUNCTIONS:
                raise ConditionError(f"unknown function {token.text!r}", token.position)
            self.advance()
            argument = self.advance()
            if argument.kind != "name" or argument.text in RESERVED_NAMES:
                raise ConditionError(
                    f"{token.text}() takes a step id, found {_describe(argument)}",
                    argument.position,
                )
            closing = self.advance()
            if closing.kind != "rparen":
                raise ConditionError(f"expected ')', found {_describe(closing)}", closing.position)
            return Answered(argument.text, argument.position)
        if token.text in FUNCTIONS:
            raise ConditionError(
                f"{token.text} must be called: {token.text}(step_id)", token.position
            )
        return StepRef(token.text, token.position)


def _as_compare_op(text: str) -> CompareOp:
    for op in _COMPARE_OPS:
        if op == text:
            return op
    raise AssertionError(text)  # the tokenizer only emits known operators


def _describe(token: Token) -> str:
    return "the end of the condition" if token.kind == "end" else repr(token.text)


# ---------------------------------------------------------------------------- analysis


def step_references(node: Node) -> Iterator[tuple[str, int]]:
    """Every step id the condition mentions, with its position, in source order."""
    if isinstance(node, (StepRef, Answered)):
        yield node.step_id, node.position
    elif isinstance(node, Not):
        yield from step_references(node.operand)
    elif isinstance(node, BoolOp):
        for operand in node.operands:
            yield from step_references(operand)
    elif isinstance(node, Compare):
        yield from step_references(node.left)
        yield from step_references(node.right)


@dataclass(frozen=True, slots=True)
class Symbol:
    """What the type checker knows about a step: its value type and, for choices, options."""

    type: ValueType
    options: frozenset[str] | None = None


@dataclass(slots=True)
class Usage:
    """Constants each step is compared with, and steps compared with each other."""

    constants: dict[str, set[Scalar]] = field(default_factory=dict)
    linked: set[frozenset[str]] = field(default_factory=set)


def check_types(node: Node, symbols: Mapping[str, Symbol], usage: Usage | None = None) -> None:
    """Raise ConditionError unless the condition is a well-typed true/false expression.

    Every step the condition mentions must be in `symbols`. Comparisons are recorded in
    `usage` so template analysis can pick the values worth trying for each step.
    """
    result = _infer(node, symbols, usage if usage is not None else Usage())
    if result != "bool":
        raise ConditionError(f"a condition must be true or false, not a {result}", node.position)


def _infer(node: Node, symbols: Mapping[str, Symbol], usage: Usage) -> ValueType:
    if isinstance(node, Constant):
        return _literal_type(node.value)
    if isinstance(node, StepRef):
        symbol = symbols[node.step_id]
        if symbol.type == "opaque":
            raise ConditionError(
                f"step {node.step_id!r} has no comparable value; use answered({node.step_id})",
                node.position,
            )
        return symbol.type
    if isinstance(node, Answered):
        return "bool"
    if isinstance(node, Not):
        _expect_bool(node.operand, symbols, usage, "not")
        return "bool"
    if isinstance(node, BoolOp):
        for operand in node.operands:
            _expect_bool(operand, symbols, usage, node.op)
        return "bool"
    return _infer_compare(node, symbols, usage)


def _expect_bool(node: Node, symbols: Mapping[str, Symbol], usage: Usage, context: str) -> None:
    found = _infer(node, symbols, usage)
    if found != "bool":
        raise ConditionError(f"'{context}' needs true/false operands, not a {found}", node.position)


def _infer_compare(node: Compare, symbols: Mapping[str, Symbol], usage: Usage) -> ValueType:
    left = _infer(node.left, symbols, usage)
    right = _infer(node.right, symbols, usage)
    if isinstance(node.left, Constant) and isinstance(node.right, Constant):
        raise ConditionError("comparison of two constants", node.position)
    if left != right:
        raise ConditionError(f"cannot compare a {left} with a {right}", node.position)
    if node.op in _ORDERING_OPS and left != "number":
        raise ConditionError(f"'{node.op}' needs numbers, not {left}s", node.position)
    for ref, other in ((node.left, node.right), (node.right, node.left)):
        if not isinstance(ref, StepRef):
            continue
        if isinstance(other, Constant):
            _check_option(ref, other, symbols[ref.step_id])
            usage.constants.setdefault(ref.step_id, set()).add(other.value)
        elif isinstance(other, StepRef):
            usage.linked.add(frozenset((ref.step_id, other.step_id)))
    return "bool"


def _check_option(ref: StepRef, literal: Constant, symbol: Symbol) -> None:
    if symbol.options is not None and literal.value not in symbol.options:
        known = ", ".join(sorted(symbol.options))
        raise ConditionError(
            f"{literal.value!r} is not an option of step {ref.step_id!r} (options: {known})",
            literal.position,
        )


def _literal_type(value: Scalar) -> ValueType:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


# ---------------------------------------------------------------------------- compiler


def compile_condition(node: Node) -> Compiled:
    """Turn a type-checked tree into a closure over a {step_id: value} mapping."""
    if isinstance(node, Constant):
        constant = node.value
        return lambda _values: constant
    if isinstance(node, StepRef):
        step_id = node.step_id
        return lambda values: values.get(step_id)
    if isinstance(node, Answered):
        step_id = node.step_id
        return lambda values: step_id in values
    if isinstance(node, Not):
        return _compile_not(compile_condition(node.operand))
    if isinstance(node, BoolOp):
        operands = tuple(compile_condition(operand) for operand in node.operands)
        return _compile_and(operands) if node.op == "and" else _compile_or(operands)
    return _compile_compare(
        _PY_OPS[node.op], compile_condition(node.left), compile_condition(node.right)
    )


def _compile_not(operand: Compiled) -> Compiled:
    def negate(values: Values) -> Value:
        result = operand(values)
        return None if result is None else not result

    return negate


def _compile_and(operands: tuple[Compiled, ...]) -> Compiled:
    def conjunction(values: Values) -> Value:
        unknown = False
        for operand in operands:
            result = operand(values)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return conjunction


def _compile_or(operands: tuple[Compiled, ...]) -> Compiled:
    def disjunction(values: Values) -> Value:
        unknown = False
        for operand in operands:
            result = operand(values)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    return disjunction


def _compile_compare(
    op: Callable[[Scalar, Scalar], bool], left: Compiled, right: Compiled
) -> Compiled:
    def comparison(values: Values) -> Value:
        a = left(values)
        b = right(values)
        if a is None or b is None:
            return None
        # Python treats True == 1; answers of different kinds are never equal here.
        if isinstance(a, bool) is not isinstance(b, bool):
            return None
        return op(a, b)

    return comparison
