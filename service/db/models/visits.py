"""Visits: a technician at a site within an agreed window."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import TSTZRANGE, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey

VISIT_STATUSES = (
    "planned",
    "en_route",
    "on_site",
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
    "cancelled",
)


class Visit(UUIDPrimaryKey, Timestamps, Base):
    """One visit of a work order; a technician never holds two overlapping live visits."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(f"status IN {VISIT_STATUSES!r}", name="status"),
        CheckConstraint("NOT isempty(agreed_window)", name="window_not_empty"),
        # The database, not a read-then-write check, refuses double booking.
        ExcludeConstraint(
            ("technician_id", "="),
            ("agreed_window", "&&"),
            name="ex_visits_technician_no_overlap",
            using="gist",
            where=text("status <> 'cancelled'"),
        ),
        Index("ix_visits_work_order", "work_order_id"),
        Index(
            "ix_visits_technician_window", "technician_id", "agreed_window", postgresql_using="gist"
        ),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT")
    )
    agreed_window: Mapped[Range] = mapped_column(TSTZRANGE)  # type: ignore[type-arg]
    status: Mapped[str] = mapped_column(String(32), default="planned")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
