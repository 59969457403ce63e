"""Checklist schemas of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from checklists import ChecklistState, Location


class PinnedTemplate(msgspec.Struct):
    """The template version a visit follows."""

    key: str
    version: int
    content_hash: str


class RecordedAnswer(msgspec.Struct):
    """An answer as stored: device time, server time and where it was given."""

    step_id: str
    value: Any
    photo_ids: list[str]
    answered_at: datetime | None
    received_at: datetime
    location: Location | None


class VisitChecklistView(msgspec.Struct):
    """A visit's checklist: the pinned version, the engine's state and the effective answers."""

    visit_id: uuid.UUID
    template: PinnedTemplate
    state: ChecklistState
    answers: list[RecordedAnswer]
