"""The transactional outbox: messages written with the change that caused them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UUIDPrimaryKey, utcnow

OUTBOX_CHANNELS = ("sms", "email", "push", "webhook")
OUTBOX_STATUSES = ("pending", "delivering", "delivered", "dead")
RECIPIENT_KINDS = ("customer", "user", "technician")
OUTBOX_LANGUAGES = ("kk", "ru", "en")


class OutboxMessage(UUIDPrimaryKey, Base):
    """One message for one recipient on one channel; its id is the delivery id receivers see."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(f"channel IN {OUTBOX_CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {OUTBOX_STATUSES!r}", name="status"),
        CheckConstraint(f"recipient_kind IN {RECIPIENT_KINDS!r}", name="recipient_kind"),
        CheckConstraint(f"language IN {OUTBOX_LANGUAGES!r}", name="language"),
        # Quiet hours are folded into next_attempt_at, so the claim query needs one column.
        CheckConstraint("next_attempt_at >= not_before", name="not_before_respected"),
        CheckConstraint("status <> 'delivering' OR lease_until IS NOT NULL", name="leased"),
        # The worker's two claim paths: due pending rows, and expired leases of crashed workers.
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_outbox_messages_lease",
            "lease_until",
            postgresql_where=text("status = 'delivering'"),
        ),
        Index(
            "ix_outbox_messages_finished",
            "created_at",
            postgresql_where=text("status IN ('delivered', 'dead')"),
        ),
    )

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    event: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[uuid.UUID | None]
    # Phone, e-mail or device token: personal data, sent to the gateway and never logged.
    recipient_address: Mapped[str] = mapped_column(String(1024))
    language: Mapped[str] = mapped_column(String(2))
    template: Mapped[str] = mapped_column(String(64))
    # Links and one-time codes in here are removed once the message is delivered or dead.
    context: Mapped[dict[str, Any]] = mapped_column(JSONB)
    time_zone: Mapped[str] = mapped_column(String(64))
    agreed_window: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    urgent: Mapped[bool] = mapped_column(Boolean)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A new token per claim: a worker whose lease ran out cannot overwrite the next claim's result.
    claim_token: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The customer link this message carries: its lifetime starts when the message is sent.
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customer_links.id", ondelete="SET NULL")
    )
