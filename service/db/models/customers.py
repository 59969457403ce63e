"""Customers: people and organisations served; they have no accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, literal_column
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey

LANGUAGES = ("kk", "ru", "en")
ACCESSIBILITY_NEEDS = ("low_vision", "hearing", "mobility")
SEGMENTS = ("b2c", "b2b")


class Customer(UUIDPrimaryKey, Timestamps, Base):
    """A customer with E.164 phones, a preferred language and accessibility needs."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(f"preferred_language IN {LANGUAGES!r}", name="language"),
        CheckConstraint(f"segment IN {SEGMENTS!r}", name="segment"),
        Index("ix_customers_territory_created", "territory_id", "created_at", "id"),
        Index(
            "ix_customers_name_trgm",
            "full_name",
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ),
        # The queue's phone search (migration 0025 creates phones_text). The operator class
        # goes in postgresql_ops (keyed by the expression's label), not in the expression, so
        # Alembic can compare the index with the database (same DDL as the migration's).
        Index(
            "ix_customers_phones_trgm",
            literal_column("phones_text(phones)").label("phones_text"),
            postgresql_using="gin",
            postgresql_ops={"phones_text": "gin_trgm_ops"},
        ),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT")
    )
    full_name: Mapped[str] = mapped_column(String(200))
    phones: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_language: Mapped[str] = mapped_column(String(2), default="ru")
    segment: Mapped[str] = mapped_column(String(3), default="b2c", server_default="b2c")
    accessibility_needs: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default="{}"
    )
    notes: Mapped[str | None] = mapped_column(Text)
