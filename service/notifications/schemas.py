"""Notification structs: who receives a message, what a channel sends, what a gateway gets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.i18n import Language

ChannelName = Literal["sms", "email", "push", "webhook"]
RecipientKind = Literal["customer", "user", "technician"]
CHANNELS: tuple[ChannelName, ...] = ("sms", "email", "push", "webhook")

Address = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class Recipient(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who gets a message: their kind and id, and the address for the channel (PII, never logged).

    The address is a phone (E.164) for sms, an e-mail for email, a device token for push and
    an opaque identifier the receiving system understands for webhook.
    """

    kind: RecipientKind
    address: Address
    id: uuid.UUID | None = None


class OutgoingMessage(msgspec.Struct, frozen=True):
    """A rendered message handed to a channel; ``delivery_id`` is stable across attempts."""

    delivery_id: uuid.UUID
    event: str
    channel: ChannelName
    recipient: Recipient
    language: Language
    subject: str
    text: str
    attempt: int
    created_at: datetime


class WebhookPayload(msgspec.Struct, frozen=True):
    """The JSON body POSTed to the gateway; receivers deduplicate on ``delivery_id``."""

    delivery_id: uuid.UUID
    event: str
    channel: ChannelName
    recipient_kind: RecipientKind
    recipient_id: uuid.UUID | None
    to: str
    language: Language
    subject: str
    text: str
    attempt: int
    created_at: datetime
    sent_at: datetime
