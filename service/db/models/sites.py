"""Sites: where the work happens."""

from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey


class Site(UUIDPrimaryKey, Timestamps, Base):
    """An address with a location; its territory follows from PostGIS containment."""

    __tablename__ = "sites"
    __table_args__ = (
        Index("ix_sites_customer", "customer_id"),
        Index("ix_sites_territory_created", "territory_id", "created_at", "id"),
        Index(
            "ix_sites_address_trgm",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT")
    )
    address: Mapped[str] = mapped_column(String(500))
    location: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=True))
    access_notes: Mapped[str | None] = mapped_column(Text)
