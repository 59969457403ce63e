"""Customer links (single-use, short-lived) and the evidence kept with each signature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UUIDPrimaryKey, utcnow

LINK_PURPOSES = ("sign", "copy", "rating")


class CustomerLink(UUIDPrimaryKey, Base):
    """A link a customer opens without an account; only its SHA-256 is stored."""

    __tablename__ = "customer_links"
    __table_args__ = (
        CheckConstraint(f"purpose IN {LINK_PURPOSES!r}", name="purpose"),
        # The verify page looks up an act's signing links (was the act refused?).
        Index("ix_customer_links_sign_act", "act_id", postgresql_where=text("purpose = 'sign'")),
    )

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    act_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("acts.id"))
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the message carrying the link left (the worker): a link's lifetime counts from
    # then, not from when it was queued behind quiet hours.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    # Optional one-time code sent to the customer's phone (63-FZ art. 9: identify the signer).
    otp_hash: Mapped[str | None] = mapped_column(String(64))
    otp_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    otp_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ActSignature(UUIDPrimaryKey, Base):
    """A signature and its evidence: the exact document hash, who, when, where, on what."""

    __tablename__ = "act_signatures"

    act_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acts.id"))
    link_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer_links.id"))
    signer_role: Mapped[str] = mapped_column(String(12))
    signer_name: Mapped[str] = mapped_column(String(200))
    document_sha256: Mapped[str] = mapped_column(String(64))
    strokes: Mapped[list[Any]] = mapped_column(JSONB)
    png_key: Mapped[str] = mapped_column(String(300))
    png_sha256: Mapped[str] = mapped_column(String(64))
    device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    server_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    technician_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("technicians.id"))
    otp_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
