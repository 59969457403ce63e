"""Escalation schemas: an escalated clock and its acknowledgement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.acknowledgement import AckComment
from service.sla.schemas import ClockTarget

# -- escalations ---------------------------------------------------------------------------

EscalationLevel = Literal["warning", "breach", "head"]
EscalationStatus = Literal["pending", "acknowledged", "all"]


class Escalation(msgspec.Struct):
    """A clock escalated to a role of the order's territory, and its acknowledgement."""

    id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    territory_id: uuid.UUID
    target: ClockTarget
    level: Annotated[
        EscalationLevel,
        msgspec.Meta(
            description="warning: the clock passed its warning time (to the dispatchers); "
            "breach: the due time passed (to the coordinators); head: the order is still "
            "open a configured delay after the breach (to the territory's supervisors)"
        ),
    ]
    due_at: Annotated[datetime, msgspec.Meta(description="The clock's due time when raised")]
    recipient_role: str
    recipient_ids: list[uuid.UUID]
    customer_new_date: Annotated[
        datetime | None,
        msgspec.Meta(description="The new control date the customer's apology gave (breach)"),
    ]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    comment: str | None


class EscalationPage(msgspec.Struct):
    """Escalations: pending ones oldest first, otherwise newest first."""

    items: list[Escalation]
    next_cursor: str | None = None


class EscalationAck(msgspec.Struct, forbid_unknown_fields=True):
    """What was done about an escalation; 1 to 2000 characters once trimmed."""

    comment: AckComment = ""
