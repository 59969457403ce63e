"""Customer rating and follow-up schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

FollowUpReason = Literal[
    "low_score", "id_not_shown", "no_overshoes", "not_demonstrated", "area_not_clean"
]
FollowUpStatus = Literal["open", "done"]
Score = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 (poor) to 5 (excellent)")]
Seen = Annotated[bool | None, msgspec.Meta(description="true yes, false no, null not answered")]


class RatingSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """What the customer's rating page sends: stars, a comment and what they saw (000 §12)."""

    score: Score
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    id_shown: Seen = None
    overshoes_on: Seen = None
    service_demonstrated: Seen = None
    area_clean: Seen = None


class RatingReceived(msgspec.Struct):
    """The reply the customer sees: thanks, or an apology with the promise of a call by a date.

    Nothing else about what happens inside the company (no owner, no reasons).
    """

    status: Literal["received"]
    score: int
    reply: Annotated[
        Literal["thanks", "apology"],
        msgspec.Meta(description="apology: a score of 3 or less, or a 'no', opened a call-back"),
    ] = "thanks"
    call_by: Annotated[
        datetime | None,
        msgspec.Meta(description="The call-back is due by then; in the site's local time"),
    ] = None
    time_zone: Annotated[
        str | None, msgspec.Meta(description="The site's IANA zone, for showing call_by")
    ] = None


class FollowUpRating(msgspec.Struct):
    """The rating behind a follow-up."""

    score: int
    comment: str | None
    confirmations: dict[str, bool | None]
    created_at: datetime


class FollowUp(msgspec.Struct):
    """A coordinator's task after a poor rating or a checklist 'no' from the customer."""

    id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    visit_id: uuid.UUID | None
    territory_id: uuid.UUID
    reasons: list[FollowUpReason]
    rating: FollowUpRating
    owner_id: uuid.UUID | None
    due_at: datetime
    overdue: bool
    status: FollowUpStatus
    resolution: str | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    created_at: datetime


class FollowUpPage(msgspec.Struct):
    """A page of follow-ups, newest first."""

    items: list[FollowUp]
    next_cursor: str | None = None


class FollowUpResolve(msgspec.Struct, forbid_unknown_fields=True):
    """How the follow-up ended (the call made, the outcome agreed with the customer)."""

    comment: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
