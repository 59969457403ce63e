"""Enqueueing into the transactional outbox, inside the caller's transaction.

Services call :func:`enqueue` next to the change that causes the message; the row commits
or rolls back with that change, so a message exists exactly when its cause does. Nothing is
sent here: the worker renders the text at delivery time, in the recipient's language, from the
context stored now (which is checked now, so a missing field fails the request, not the worker).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.i18n import LANGUAGES, Language
from service.db.base import utcnow
from service.db.models import CustomerLink, OutboxMessage
from service.notifications.events import spec_for
from service.notifications.quiet_hours import AgreedWindow, earliest_send_time
from service.notifications.schemas import (
    CHANNELS,
    ChannelName,
    Recipient,
    RecipientKind,
)
from service.notifications.templates import prepare_context

_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{1,63}$")


class InvalidNotification(ValueError):
    """The caller asked for a message that cannot be sent (a programming or data error)."""


def dedup_key(event: str, event_key: str, channel: str, recipient: Recipient) -> str:
    """One message per event occurrence, channel and recipient; a hash, so it holds no PII."""
    who = str(recipient.id) if recipient.id is not None else recipient.address
    parts = (event, event_key, channel, recipient.kind, who)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _check_address(channel: ChannelName, address: str) -> None:
    if channel == "sms" and not _PHONE.match(address):
        raise InvalidNotification("sms needs an E.164 phone number")
    if channel == "email" and not _EMAIL.match(address):
        raise InvalidNotification("email needs an e-mail address")


def _check_zone(time_zone: str) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidNotification(f"unknown time zone {time_zone!r}") from None


async def enqueue(
    session: AsyncSession,
    *,
    event: str,
    event_key: str,
    channel: ChannelName,
    recipient: Recipient,
    language: Language,
    time_zone: str,
    context: Mapping[str, Any],
    template: str | None = None,
    urgent: bool | None = None,
    agreed_window: AgreedWindow | None = None,
    holidays: Collection[date] = frozenset(),
    not_before: datetime | None = None,
    now: datetime | None = None,
    link_id: uuid.UUID | None = None,
) -> bool:
    """Add a message to the outbox in the session's transaction; True when it is new.

    ``event_key`` identifies the occurrence (e.g. ``f"{visit.id}:v{visit.version}"``): the same
    event, key, channel and recipient enqueued again is a no-op (``ON CONFLICT DO NOTHING``).
    ``time_zone`` is the recipient's IANA zone: texts show local times and quiet hours are
    local. Non-urgent messages wait for working hours or ``agreed_window``; ``urgent`` defaults
    per event (see ``events.EVENTS``). ``not_before`` delays a message further (quiet hours
    still apply after it unless urgent). ``link_id`` names the customer link the message
    carries: its lifetime starts when the worker sends the message (``start_link_lifetime``).
    Flushes nothing else and never commits.
    """
    spec = spec_for(event, template)
    if channel not in CHANNELS:
        raise InvalidNotification(f"unknown channel {channel!r}")
    if language not in LANGUAGES:
        raise InvalidNotification(f"unsupported language {language!r}")
    if recipient.kind not in get_args(RecipientKind):
        raise InvalidNotification(f"unknown recipient kind {recipient.kind!r}")
    if not event_key or len(event_key) > 200:
        raise InvalidNotification("event_key must be 1 to 200 characters")
    _check_address(channel, recipient.address)
    _check_zone(time_zone)
    stored_context = prepare_context(spec.template, context)

    now = now or utcnow()
    is_urgent = spec.urgent if urgent is None else urgent
    deadline = (
        datetime.fromisoformat(stored_context[spec.deadline_field])
        if spec.deadline_field and spec.deadline_field in stored_context
        else None
    )
    start = max(now, not_before) if not_before is not None else now
    send_at = earliest_send_time(
        start,
        time_zone,
        urgent=is_urgent,
        agreed=agreed_window,
        holidays=holidays,
        deadline=deadline,
    )
    # "At once" uses the database clock, so a fast application clock never delays a message.
    due: Any = func.now() if send_at <= now else send_at

    statement = (
        insert(OutboxMessage)
        .values(
            event=event,
            channel=channel,
            recipient_kind=recipient.kind,
            recipient_id=recipient.id,
            recipient_address=recipient.address,
            language=language,
            template=spec.template,
            context=stored_context,
            time_zone=time_zone,
            agreed_window=msgspec.to_builtins(agreed_window) if agreed_window else None,
            urgent=is_urgent,
            not_before=due,
            next_attempt_at=due,
            dedup_key=dedup_key(event, event_key, channel, recipient),
            link_id=link_id,
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
        .returning(OutboxMessage.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def start_link_lifetime(session: AsyncSession, link_id: uuid.UUID) -> None:
    """The message carrying the link was sent: its lifetime counts from now, once.

    The link was issued with ``expires_at = created_at + lifetime``; the same lifetime now
    starts at the send time, so a link held behind quiet hours loses none of it.
    """
    await session.execute(
        update(CustomerLink)
        .where(CustomerLink.id == link_id, CustomerLink.sent_at.is_(None))
        .values(
            sent_at=func.now(),
            expires_at=func.now() + (CustomerLink.expires_at - CustomerLink.created_at),
        )
        .execution_options(synchronize_session=False)
    )


async def purge_finished(session: AsyncSession, older_than: timedelta) -> int:
    """Delete delivered and dead messages created before ``older_than`` ago (they hold PII)."""
    result = await session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("delivered", "dead")),
            OutboxMessage.created_at < func.now() - older_than,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
