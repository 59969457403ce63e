"""When technicians work: weekly shifts, absences, and per-work-type slot policies."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Time
from sqlalchemy.dialects.postgresql import TSTZRANGE, Range
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey

ABSENCE_KINDS = ("day_off", "vacation", "sick_leave", "training", "other")


class Shift(UUIDPrimaryKey, Base):
    """A weekly working period in the technician's local time (0 = Monday)."""

    __tablename__ = "technician_shifts"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("ends > starts", name="order"),
        Index("ix_technician_shifts_technician", "technician_id", "weekday"),
    )

    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE")
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class Absence(UUIDPrimaryKey, Timestamps, Base):
    """A day off, vacation or sick leave: no visits inside it."""

    __tablename__ = "technician_absences"
    __table_args__ = (
        CheckConstraint(f"kind IN {ABSENCE_KINDS!r}", name="kind"),
        Index("ix_technician_absences_period", "technician_id", "period", postgresql_using="gist"),
    )

    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE")
    )
    period: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))


class SlotPolicy(Base):
    """Per work type: how wide a promised window is and how long the work takes."""

    __tablename__ = "slot_policies"
    __table_args__ = (
        CheckConstraint("window_minutes BETWEEN 30 AND 480", name="window"),
        CheckConstraint("service_minutes BETWEEN 10 AND 600", name="service"),
    )

    work_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    window_minutes: Mapped[int] = mapped_column(Integer)
    service_minutes: Mapped[int] = mapped_column(Integer)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
