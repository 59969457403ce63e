"""Technicians: skills, home base, territories."""

from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.db.models.territories import Territory

EMPLOYMENT_KINDS = ("staff", "dealer", "partner")

technician_territories = Table(
    "technician_territories",
    Base.metadata,
    Column("technician_id", ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True),
    Column("territory_id", ForeignKey("territories.id", ondelete="RESTRICT"), primary_key=True),
)


class Technician(UUIDPrimaryKey, Timestamps, Base):
    """A field technician (employee, dealer or partner: all follow the same standard)."""

    __tablename__ = "technicians"
    __table_args__ = (CheckConstraint(f"employment IN {EMPLOYMENT_KINDS!r}", name="employment"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    # The employer's personnel number (табельный номер), printed on acts; NULL only for
    # technicians created before numbers were recorded.
    personnel_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone: Mapped[str] = mapped_column(String(16))
    employment: Mapped[str] = mapped_column(String(16), default="staff", server_default="staff")
    skills: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    home_base: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Asia/Almaty", server_default="Asia/Almaty"
    )
    daily_capacity: Mapped[int] = mapped_column(Integer, default=6, server_default="6")

    territories: Mapped[list[Territory]] = relationship(
        secondary=technician_territories, lazy="raise"
    )
