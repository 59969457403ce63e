"""Work orders (наряды)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, TSVECTOR, Range
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey

# The API types of the same vocabularies: they live here, below orders and sla, which both use them.
WorkType = Literal["installation", "repair", "construction", "meter_check"]
Priority = Literal["low", "normal", "high", "urgent"]
WORK_TYPES = ("installation", "repair", "construction", "meter_check")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "scheduled", "in_progress", "completed", "closed", "cancelled", "on_hold")
# Still owed to the customer: the clocks run, the board and escalations watch these.
OPEN_ORDER_STATUSES = ("new", "scheduled", "in_progress", "on_hold")


class WorkOrder(UUIDPrimaryKey, Timestamps, Base):
    """A work order with its human number, lifecycle status and optimistic-lock version."""

    __tablename__ = "work_orders"
    __table_args__ = (
        CheckConstraint(f"type IN {WORK_TYPES!r}", name="type"),
        CheckConstraint(f"priority IN {PRIORITIES!r}", name="priority"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        # The list is keyset-paginated on (created_at, id), newest first, within a territory.
        Index("ix_work_orders_created", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_work_orders_territory_created",
            "territory_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_work_orders_deadline", "control_deadline"),
        # The queue's phone search (migration 0025 creates phones_text); the operator class in
        # postgresql_ops so Alembic can compare the index (see customers.py).
        Index(
            "ix_work_orders_contact_phones_trgm",
            literal_column("phones_text(contact_phones)").label("phones_text"),
            postgresql_using="gin",
            postgresql_ops={"phones_text": "gin_trgm_ops"},
        ),
        Index("ix_work_orders_search", "search", postgresql_using="gin"),
        Index("ix_work_orders_customer", "customer_id"),
        Index("ix_work_orders_site", "site_id"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="new")
    description: Mapped[str] = mapped_column(Text, default="")
    requested_services: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    required_skills: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    equipment: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    contact_phones: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT")
    )
    control_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the customer asked for; the promised window lives on the visit.
    requested_window: Mapped[Range[datetime] | None] = mapped_column(TSTZRANGE)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('simple', "
            "translate(number, '-', ' ') || ' ' || coalesce(description, ''))",
            persisted=True,
        ),
    )

    __mapper_args__ = {"version_id_col": version}
