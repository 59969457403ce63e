"""Territories: service areas with their own time zone."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey


class Territory(UUIDPrimaryKey, Timestamps, Base):
    """A service area (MultiPolygon, WGS 84) and the IANA time zone it works in."""

    __tablename__ = "territories"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    # geometry rather than geography: containment tests on geometry use the GiST index directly.
    area: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))
    # Travel estimates: straight-line distance times the detour factor, at the average speed.
    travel_speed_kmh: Mapped[float] = mapped_column(Float, default=30.0, server_default="30")
    detour_factor: Mapped[float] = mapped_column(Float, default=1.4, server_default="1.4")
