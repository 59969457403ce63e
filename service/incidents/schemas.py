"""Incident structs for the back-office API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.acknowledgement import AckComment

IncidentStatus = Literal["pending", "acknowledged", "all"]


class Incident(msgspec.Struct):
    """An incident of a visit: who was told, and who acknowledged it with what comment."""

    id: uuid.UUID
    kind: Annotated[str, msgspec.Meta(description="As the checklist names it, e.g. safety")]
    outcome: Annotated[str, msgspec.Meta(description="The visit outcome that raised it")]
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    territory_id: uuid.UUID
    technician_id: uuid.UUID | None
    technician_name: str | None
    occurred_at: Annotated[datetime, msgspec.Meta(description="Device time of the outcome")]
    created_at: datetime
    reason: str | None
    notified_role: Annotated[
        str, msgspec.Meta(description="supervisor, or the fallback (security) when none")
    ]
    notified_user_ids: list[uuid.UUID]
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    acknowledged_by_name: str | None
    ack_comment: str | None


class IncidentPage(msgspec.Struct):
    """A page of incidents, newest first."""

    items: list[Incident]
    next_cursor: str | None = None


class IncidentAck(msgspec.Struct, forbid_unknown_fields=True):
    """What was done about an incident; 1 to 2000 characters once trimmed."""

    comment: AckComment = ""
