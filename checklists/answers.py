"""Checks one answer against its step's kind, without looking at any other answer."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from checklists.expressions import Value
from checklists.messages import format_number
from checklists.schema import (
    Answer,
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    Location,
    NumberStep,
    PersonNameStep,
    PhotoStep,
    SerialEntry,
    SerialStep,
    SignatureStep,
    Step,
    TextStep,
    YesNoStep,
    step_kind,
)

AnswerErrorCode = Literal[
    "unknown_step",
    "step_hidden",
    "phase_locked",
    "outcome_not_declared",
    "wrong_type",
    "invalid_value",
    "out_of_range",
    "invalid_option",
    "empty_value",
    "too_long",
    "photo_count",
    "invalid_photo_ids",
    "serial_empty",
    "serial_count",
    "missing_location",
    "invalid_location",
    "invalid_timestamp",
    "step_id_mismatch",
]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an answer is refused: a stable code, and a message key with its parameters."""

    code: AnswerErrorCode
    message_key: str
    params: Mapping[str, object] = field(default_factory=dict)


Checked = tuple[Value, Rejection | None]
AnswerChecker = Callable[[Answer], Checked]


def checker_for(step: Step) -> AnswerChecker:
    """A function that checks an answer's value and evidence for this step.

    On success it returns the value conditions see for the step (photo steps: the number
    of photos; signature and serial steps: true; geo_check: None, the engine decides).
    """
    check_value = _value_checker(step)

    def check(answer: Answer) -> Checked:
        problem = _check_evidence(answer)
        if problem is not None:
            return None, problem
        return check_value(answer)

    return check


def _check_evidence(answer: Answer) -> Rejection | None:
    stamp = answer.answered_at
    # Naive times cannot be ordered against offset times, and the phone's zone is unknown.
    if stamp is not None and stamp.utcoffset() is None:
        return Rejection("invalid_timestamp", "naive_timestamp")
    if answer.location is not None and not _valid_location(answer.location):
        return Rejection("invalid_location", "invalid_location")
    photo_ids = answer.photo_ids
    if photo_ids and (len(set(photo_ids)) != len(photo_ids) or not all(photo_ids)):
        return Rejection("invalid_photo_ids", "invalid_photo_ids")
    return None


def _valid_location(location: Location) -> bool:
    # Structs built in Python skip msgspec's decode-time constraints, so check again here.
    accuracy = location.accuracy_m
    return (
        -90.0 <= location.lat <= 90.0
        and -180.0 <= location.lon <= 180.0
        and (accuracy is None or (math.isfinite(accuracy) and accuracy >= 0))
    )


def _wrong_type(kind: str) -> Checked:
    return None, Rejection("wrong_type", "wrong_type", {"expects": kind})


def _value_checker(step: Step) -> Callable[[Answer], Checked]:
    if isinstance(step, ConfirmStep):
        return _check_confirm
    if isinstance(step, YesNoStep):
        return _check_yes_no
    if isinstance(step, ChoiceStep):
        return _choice_checker(step)
    if isinstance(step, (TextStep, PersonNameStep)):
        return _text_checker(step_kind(step), step.max_length)
    if isinstance(step, NumberStep):
        return _number_checker(step)
    if isinstance(step, PhotoStep):
        return _photo_checker(step)
    if isinstance(step, SignatureStep):
        return _check_signature
    if isinstance(step, GeoCheckStep):
        return _check_geo
    return _serial_checker(step)


def _check_confirm(answer: Answer) -> Checked:
    if answer.value is True:
        return True, None
    if answer.value is False:
        return None, Rejection("invalid_value", "confirm_only_true")
    return _wrong_type("confirm")


def _check_yes_no(answer: Answer) -> Checked:
    if isinstance(answer.value, bool):
        return answer.value, None
    return _wrong_type("yes_no")


def _choice_checker(step: ChoiceStep) -> Callable[[Answer], Checked]:
    allowed = frozenset(option.value for option in step.options)
    listed = ", ".join(option.value for option in step.options)

    def check(answer: Answer) -> Checked:
        value = answer.value
        if not isinstance(value, str):
            return _wrong_type("choice")
        if value not in allowed:
            return None, Rejection(
                "invalid_option", "invalid_option", {"value": value, "options": listed}
            )
        return value, None

    return check


def _text_checker(kind: str, max_length: int) -> Callable[[Answer], Checked]:
    def check(answer: Answer) -> Checked:
        value = answer.value
        if not isinstance(value, str):
            return _wrong_type(kind)
        if not value.strip():
            return None, Rejection("empty_value", "empty_value")
        if len(value) > max_length:
            return None, Rejection("too_long", "too_long", {"max": max_length})
        return value, None

    return check


def _number_checker(step: NumberStep) -> Callable[[Answer], Checked]:
    low = step.min
    high = step.max

    def check(answer: Answer) -> Checked:
        value = answer.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong_type("number")
        if not math.isfinite(value):
            return None, Rejection("invalid_value", "not_finite")
        if low is not None and value < low:
            params = {"value": format_number(value), "min": format_number(low)}
            return None, Rejection("out_of_range", "below_min", params)
        if high is not None and value > high:
            params = {"value": format_number(value), "max": format_number(high)}
            return None, Rejection("out_of_range", "above_max", params)
        return value, None

    return check


def _photo_checker(step: PhotoStep) -> Callable[[Answer], Checked]:
    low = step.min_count
    high = step.max_count

    def check(answer: Answer) -> Checked:
        if answer.value is not None:
            return _wrong_type("photo")
        count = len(answer.photo_ids)
        if not low <= count <= high:
            return None, Rejection(
                "photo_count", "photo_count", {"min": low, "max": high, "count": count}
            )
        return count, None

    return check


def _check_signature(answer: Answer) -> Checked:
    value = answer.value
    if not isinstance(value, str):
        return _wrong_type("signature")
    if not value.strip():
        return None, Rejection("empty_value", "empty_value")
    return True, None


def _check_geo(answer: Answer) -> Checked:
    if answer.value is not None:
        return _wrong_type("geo_check")
    if answer.location is None:
        return None, Rejection("missing_location", "missing_location")
    return None, None


def _serial_checker(step: SerialStep) -> Callable[[Answer], Checked]:
    low = step.min_count
    high = step.max_count

    def check(answer: Answer) -> Checked:
        entries = answer.value
        if not isinstance(entries, (tuple, list)) or not all(
            isinstance(entry, SerialEntry) for entry in entries
        ):
            return _wrong_type("serial")
        if not low <= len(entries) <= high:
            params = {"min": low, "max": high, "count": len(entries)}
            return None, Rejection("serial_count", "serial_count", params)
        seen: set[str] = set()
        for entry in entries:
            normalised = entry.value.strip()
            if not normalised:
                return None, Rejection("serial_empty", "serial_empty")
            if normalised in seen:
                return None, Rejection("invalid_value", "serial_duplicate", {"value": normalised})
            seen.add(normalised)
        return True, None

    return check
