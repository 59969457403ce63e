"""Escalations of SLA clocks: who was told that a deadline is near or missed, and who answered."""

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
from service.db.models.coordination import CLOCK_TARGETS, SlaClock

ESCALATION_LEVELS = ("warning", "breach", "head")
ESCALATION_ROLES = ("dispatcher", "coordinator", "supervisor")


class Escalation(UUIDPrimaryKey, Base):
    """One level of escalation of one clock for one due time; acknowledged with a comment."""

    __tablename__ = "escalations"
    __table_args__ = (
        # The same escalation is never raised twice, whoever runs the job and how often; a due
        # time that moves (a pause, a new priority) starts a new round.
        UniqueConstraint(
            "work_order_id", "target", "level", "due_at", name="uq_escalations_occurrence"
        ),
        CheckConstraint(f"target IN {CLOCK_TARGETS!r}", name="target"),
        CheckConstraint(f"level IN {ESCALATION_LEVELS!r}", name="level"),
        CheckConstraint(f"recipient_role IN {ESCALATION_ROLES!r}", name="recipient_role"),
        CheckConstraint(
            "(acknowledged_at IS NULL AND ack_comment IS NULL) OR "
            "(acknowledged_at IS NOT NULL AND length(btrim(ack_comment)) > 0)",
            name="ack_comment",
        ),
        # The queue of unacknowledged escalations stays small however long the history grows.
        Index(
            "ix_escalations_pending",
            "created_at",
            "id",
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
        Index("ix_escalations_created", "created_at", "id"),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    target: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(8))
    # The clock's due time when the escalation was raised (part of its identity).
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipient_role: Mapped[str] = mapped_column(String(20))
    # Active users of that role in the order's territory at the time; empty means the role's
    # desk address got the message instead.
    recipient_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), default=list, server_default="{}"
    )
    # The new control date given to the customer with the apology (breach level only).
    customer_new_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    ack_comment: Mapped[str | None] = mapped_column(Text)


# The escalation job reads open clocks by due time; settled clocks (the bulk) stay out.
Index(
    "ix_sla_clocks_open_due",
    SlaClock.due_at,
    postgresql_where=text("stopped_at IS NULL AND due_at IS NOT NULL"),
)
