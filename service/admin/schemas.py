"""Admin operations schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from service.common.schemas import Name
from service.technicians.schemas import Password, TerritoryIds, Username

OutboxListStatus = Literal["dead", "pending"]
StaffRole = Literal["dispatcher", "coordinator", "supervisor"]


class OutboxMessage(msgspec.Struct):
    """A queued or given-up notification (without its address or its text)."""

    id: uuid.UUID
    created_at: datetime
    event: str
    template: str
    channel: str
    recipient_kind: str
    language: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    # False for a dead message whose one-time link or code was removed when it died.
    retriable: bool


class OutboxPage(msgspec.Struct):
    """A page of outbox messages, newest first."""

    items: list[OutboxMessage]
    next_cursor: str | None = None


class StaffUserCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new dispatcher, coordinator or supervisor and the territories they work in."""

    username: Username
    password: Password
    full_name: Name
    role: StaffRole
    territory_ids: TerritoryIds


class StaffUserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a staff account (a new scope applies from the user's next token refresh)."""

    full_name: Name | msgspec.UnsetType = msgspec.UNSET
    territory_ids: TerritoryIds | msgspec.UnsetType = msgspec.UNSET


class StaffUser(msgspec.Struct):
    """A staff account."""

    id: uuid.UUID
    username: str
    full_name: str
    role: str
    territory_ids: list[uuid.UUID]
    active: bool
    created_at: datetime


class StaffUserPage(msgspec.Struct):
    """A page of staff accounts, newest first."""

    items: list[StaffUser]
    next_cursor: str | None = None
