"""Incidents raised by a visit's outcome (seed 004 §5.4.10.5: a safety exit is told at once)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UUIDPrimaryKey, utcnow


class Incident(UUIDPrimaryKey, Base):
    """One incident of one visit, written with the outcome; acknowledged once, with a comment."""

    __tablename__ = "incidents"
    __table_args__ = (
        # One incident of a kind per visit: a replayed or repeated outcome raises nothing new.
        UniqueConstraint("visit_id", "kind", name="uq_incidents_visit_kind"),
        CheckConstraint(
            "(acknowledged_at IS NULL AND ack_comment IS NULL AND acknowledged_by IS NULL) OR "
            "(acknowledged_at IS NOT NULL AND length(btrim(ack_comment)) > 0)",
            name="ack_comment",
        ),
        # The board's queue of unacknowledged incidents stays small however long history grows.
        Index(
            "ix_incidents_pending",
            "territory_id",
            "created_at",
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
        Index("ix_incidents_territory_created", "territory_id", "created_at", "id"),
    )

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT")
    )
    technician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="SET NULL")
    )
    # When it happened on the phone (the operation's device time) and when the server heard.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    # The technician's words, if any (the reason given with the outcome).
    reason: Mapped[str | None] = mapped_column(Text)
    # The role told, as the checklist names it (supervisor, else the fallback: security).
    notified_role: Mapped[str] = mapped_column(String(32))
    # The users told; empty means the desk address got the message instead.
    notified_user_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), default=list, server_default="{}"
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    ack_comment: Mapped[str | None] = mapped_column(Text)
