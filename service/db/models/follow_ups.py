"""Follow-up tasks a poor customer rating opens for the territory's coordinators."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.db.models.signing import CustomerLink

FOLLOW_UP_REASONS = (
    "low_score",
    "id_not_shown",
    "no_overshoes",
    "not_demonstrated",
    "area_not_clean",
)
FOLLOW_UP_STATUSES = ("open", "done")


class FollowUpTask(UUIDPrimaryKey, Timestamps, Base):
    """A coordinator's task to call back a customer after a poor rating or a checklist 'no'."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        CheckConstraint(f"status IN {FOLLOW_UP_STATUSES!r}", name="status"),
        CheckConstraint(
            f"cardinality(reasons) > 0 AND reasons <@ ARRAY{list(FOLLOW_UP_REASONS)!r}::varchar[]",
            name="reasons",
        ),
        CheckConstraint(
            "status = 'open' OR (resolved_at IS NOT NULL AND resolution IS NOT NULL)",
            name="resolved",
        ),
        # The coordinators' list: a territory's tasks by status, newest first.
        Index("ix_follow_up_tasks_territory", "territory_id", "status", "created_at", "id"),
        # Picking the least-loaded owner counts open tasks per owner.
        Index(
            "ix_follow_up_tasks_owner_open", "owner_id", postgresql_where=text("status = 'open'")
        ),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    # One task per rating: the rating link is single-use, this makes it hold in the data too.
    rating_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ratings.id", ondelete="CASCADE"), unique=True
    )
    # The order's territory when the task opened: its coordinators own the task.
    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT")
    )
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    score: Mapped[int] = mapped_column(SmallInteger)
    # NULL when the territory has no coordinator: every coordinator of it sees the task.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


# Exactly one rating link per visit, even when the completion is replayed concurrently.
Index(
    "uq_customer_links_rating_visit",
    CustomerLink.visit_id,
    unique=True,
    postgresql_where=text("purpose = 'rating'"),
)
