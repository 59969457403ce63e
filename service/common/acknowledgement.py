"""Acknowledging an escalation or an incident: a comment saying what was done."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Protocol

import msgspec

from service.common.actor import Actor
from service.errors import Conflict, FieldError, ValidationFailed

ACK_COMMENT_MAX = 2000

# Checked by ``clean_comment``, so a missing or blank comment is a 422 with a field error; the
# schema only bounds the raw body (surrounding whitespace is trimmed before the real limit).
AckComment = Annotated[
    str,
    msgspec.Meta(
        max_length=4 * ACK_COMMENT_MAX,
        description=f"Required: 1 to {ACK_COMMENT_MAX} characters after trimming",
    ),
]


def clean_comment(comment: str | None, max_length: int) -> str:
    """The trimmed comment, or a 422 on ``comment``."""
    text = (comment or "").strip()
    if not text:
        raise ValidationFailed(
            "An acknowledgement needs a comment",
            errors=[
                FieldError(field="comment", message="a comment saying what was done is required")
            ],
            code="comment_required",
        )
    if len(text) > max_length:
        raise ValidationFailed(
            "The comment is too long",
            errors=[FieldError(field="comment", message=f"at most {max_length} characters")],
            code="comment_too_long",
        )
    return text


class Acknowledgeable(Protocol):
    """A row acknowledged once, by someone, with a comment (an escalation, an incident)."""

    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    ack_comment: str | None


def stamp_acknowledged(item: Acknowledgeable, actor: Actor, text: str, what: str) -> None:
    """Record who acknowledged the (locked) row, when and what was done; once only (409)."""
    if item.acknowledged_at is not None:
        raise Conflict(f"The {what} is already acknowledged", code="already_acknowledged")
    item.acknowledged_at = datetime.now(UTC)
    item.acknowledged_by = actor.user_id
    item.ack_comment = text
