"""The staff pages' one reading of a refused form: a sentence per field, keyed by its input."""

from __future__ import annotations

from service.errors import FieldError, ValidationFailed
from service.staff.web import field_errors

TEXTS = {
    "err.input": "Check the form: {detail}",
    "err.field.note": "Write a note.",
    "err.field.hold_reason": "Write why.",
}


def test_a_known_field_reads_as_its_sentence_next_to_its_input() -> None:
    exc = ValidationFailed("bad", errors=[FieldError(field="hold_reason", message="empty")])
    assert field_errors(TEXTS, exc, ("reason",), {"hold_reason": "reason"}) == {
        "reason": "Write why."
    }
    # A form without that input (or a page that shows one line) has it as the whole form's.
    assert field_errors(TEXTS, exc) == {"": "Write why."}


def test_unknown_fields_say_the_services_words_and_a_bare_refusal_its_detail() -> None:
    exc = ValidationFailed(
        "bad",
        errors=[
            FieldError(field="note", message="empty"),
            FieldError(field="note", message="too short"),
            FieldError(field="when", message="not a date"),
        ],
    )
    assert field_errors(TEXTS, exc, ("note",)) == {
        "note": "Write a note.",
        "": "Check the form: when: not a date",
    }
    assert field_errors(TEXTS, ValidationFailed("The form is empty")) == {
        "": "Check the form: The form is empty"
    }
