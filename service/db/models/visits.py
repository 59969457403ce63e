"""Visits: a technician at a site within a promised window."""

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
LIVE_STATUSES = ("planned", "en_route", "on_site")
AGREEMENT_CHANNELS = ("phone", "sms", "in_person", "portal")


class Visit(UUIDPrimaryKey, Timestamps, Base):
    """One visit of a work order.

    Four separate times: the order's requested window, this visit's promised (agreed) window,
    the internal plan inside it, and the actual en-route/arrival/finish times.
    """

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(f"status IN {VISIT_STATUSES!r}", name="status"),
        CheckConstraint("NOT isempty(agreed_window)", name="window_not_empty"),
        CheckConstraint(
            f"agreement_channel IS NULL OR agreement_channel IN {AGREEMENT_CHANNELS!r}",
            name="agreement_channel",
        ),
        # The database, not a read-then-write check, refuses double booking.
        ExcludeConstraint(
            ("technician_id", "="),
            ("agreed_window", "&&"),
            name="ex_visits_technician_no_overlap",
            using="gist",
            where=text("status <> 'cancelled'"),
        ),
        # One live visit per order at a time: a second one is a reschedule, not a booking.
        Index(
            "uq_visits_one_live_per_order",
            "work_order_id",
            unique=True,
            postgresql_where=text("status IN ('planned', 'en_route', 'on_site')"),
        ),
        Index("ix_visits_work_order", "work_order_id"),
        Index(
            "ix_visits_technician_window",
            "technician_id",
            "agreed_window",
            postgresql_using="gist",
        ),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    # A copy of the work order's territory (filled by a trigger, migration 0022) for KPI scope.
    territory_id: Mapped[uuid.UUID | None]
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT")
    )
    agreed_window: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    status: Mapped[str] = mapped_column(String(32), default="planned")
    # Who agreed the window with the customer, and how (seed 000 §9: changes only by agreement).
    agreed_with: Mapped[str | None] = mapped_column(String(200))
    agreement_channel: Mapped[str | None] = mapped_column(String(16))
    agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    eta: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    en_route_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_change_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    late_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    arrival_location: Mapped[Any | None] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False)
    )
    arrival_distance_m: Mapped[float | None] = mapped_column(Float)
    # Arrived farther from the site than the allowed radius: kept, and shown to supervisors.
    arrival_flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
