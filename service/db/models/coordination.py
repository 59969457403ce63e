"""Coordination: the work-order event log, SLA policies, business calendars, clocks, ratings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from service.db.models.visits import Visit
from service.db.models.work_orders import WorkOrder

MEASURES = ("calendar", "business")
AREA_KINDS = ("urban", "rural")
HOLIDAY_KINDS = ("holiday", "short_day", "working_day_transfer")
CLOCK_TARGETS = ("response", "arrival", "resolution")
CLOCK_STATUSES = ("running", "warning", "paused", "met", "breached", "cancelled")
OPEN_ORDER_STATUSES = ("new", "scheduled", "in_progress", "on_hold")
_OPEN_ORDER = text(f"status IN {OPEN_ORDER_STATUSES!r}")


class WorkOrderEvent(Base):
    """One fact about a work order (kinds in service/sla/kinds.py); append-only."""

    __tablename__ = "work_order_events"
    __table_args__ = (
        Index("ix_work_order_events_order", "work_order_id", "occurred_at", "id"),
        Index("ix_work_order_events_kind", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    # When the fact happened (device time for the phone); recorded_at is when we learnt it.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    actor_user_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class SlaPolicy(UUIDPrimaryKey, Timestamps, Base):
    """Targets per work type, priority, segment and area; NULL in a key field means any."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint(
            "work_type",
            "priority",
            "segment",
            "area_kind",
            name="uq_sla_policies_key",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint(f"measure IN {MEASURES!r}", name="measure"),
        CheckConstraint(f"area_kind IS NULL OR area_kind IN {AREA_KINDS!r}", name="area_kind"),
        CheckConstraint(
            "response_minutes > 0 AND arrival_minutes > 0 AND resolution_minutes > 0",
            name="positive",
        ),
        CheckConstraint(
            "response_minutes <= arrival_minutes AND arrival_minutes <= resolution_minutes",
            name="ordered",
        ),
        CheckConstraint("warning_ratio > 0 AND warning_ratio < 1", name="warning_ratio"),
    )

    name: Mapped[str] = mapped_column(String(200))
    work_type: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(8))
    segment: Mapped[str | None] = mapped_column(String(3))
    area_kind: Mapped[str | None] = mapped_column(String(8))
    response_minutes: Mapped[int] = mapped_column(Integer)
    arrival_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(8), default="business")
    warning_ratio: Mapped[float] = mapped_column(Float, default=0.8, server_default="0.8")


class BusinessCalendar(UUIDPrimaryKey, Timestamps, Base):
    """Weekly working hours and dated exceptions of a country; hours are in each territory's
    local time, so one calendar serves territories in different zones."""

    __tablename__ = "business_calendars"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    # Territories in these IANA zones use this calendar unless their profile names another.
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    # [{"weekday": 0..6, "start": "09:00", "end": "18:00"}, ...]
    hours: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class Holiday(UUIDPrimaryKey, Base):
    """A dated exception: a holiday, a shortened day or a transferred working day."""

    __tablename__ = "holidays"
    __table_args__ = (
        UniqueConstraint("calendar_id", "day", name="uq_holidays_calendar_day"),
        CheckConstraint(f"kind IN {HOLIDAY_KINDS!r}", name="kind"),
        CheckConstraint("shorten_minutes BETWEEN 0 AND 720", name="shorten"),
        CheckConstraint("kind <> 'holiday' OR shorten_minutes = 0", name="holiday_not_shortened"),
    )

    calendar_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24), default="holiday")
    shorten_minutes: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class TerritorySlaProfile(Base):
    """A territory's calendar (else the calendar listing its zone) and area kind."""

    __tablename__ = "territory_sla_profiles"
    __table_args__ = (CheckConstraint(f"area_kind IN {AREA_KINDS!r}", name="area_kind"),)

    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    )
    calendar_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="RESTRICT")
    )
    area_kind: Mapped[str] = mapped_column(String(8), default="urban", server_default="urban")


class SlaClock(Base):
    """A work order's clock as last computed from its events (the explanation is recomputed)."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        CheckConstraint(f"target IN {CLOCK_TARGETS!r}", name="target"),
        CheckConstraint(f"status IN {CLOCK_STATUSES!r}", name="status"),
        CheckConstraint(f"measure IN {MEASURES!r}", name="measure"),
        # The refresh job finds clocks whose state changes by now.
        Index(
            "ix_sla_clocks_next_change",
            "next_change_at",
            postgresql_where=text("next_change_at IS NOT NULL"),
        ),
        # Deadline compliance: clocks settled (met or breached) in a period.
        Index("ix_sla_clocks_settled", "target", "settled_at"),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(12), primary_key=True)
    status: Mapped[str] = mapped_column(String(12))
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    measure: Mapped[str] = mapped_column(String(8))
    target_minutes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warning_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resumes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    remaining_minutes: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(40))
    next_change_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rating(UUIDPrimaryKey, Base):
    """A customer's 1-5 rating after a service (000 §9-10, 002), with what they confirmed."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        Index("ix_ratings_created", "created_at"),
        Index("ix_ratings_work_order", "work_order_id"),
        # One rating per visit: the customer's single-use rating link is per visit.
        Index(
            "uq_ratings_visit",
            "visit_id",
            unique=True,
            postgresql_where=text("visit_id IS NOT NULL"),
        ),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    # e.g. {"id_shown": true, "overshoes": true, "area_clean": false}
    confirmations: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


# The overdue board reads open orders by control deadline, most overdue first; partial indexes
# keep closed history (the bulk of the table) out of them.
Index(
    "ix_work_orders_open_deadline",
    WorkOrder.control_deadline,
    WorkOrder.id,
    postgresql_where=_OPEN_ORDER,
)
Index(
    "ix_work_orders_open_territory_deadline",
    WorkOrder.territory_id,
    WorkOrder.control_deadline,
    WorkOrder.id,
    postgresql_where=_OPEN_ORDER,
)
# KPIs select a period's visits by when they were booked, reached the site and ended.
Index("ix_visits_created", Visit.created_at)
Index("ix_visits_arrived", Visit.arrived_at, postgresql_where=text("arrived_at IS NOT NULL"))
Index("ix_visits_finished", Visit.finished_at, postgresql_where=text("finished_at IS NOT NULL"))
