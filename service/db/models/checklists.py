"""Published checklist templates, the version each visit pinned, and the answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow


class ChecklistTemplate(Base):
    """One published version of a template; immutable once stored."""

    __tablename__ = "checklist_templates"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VisitChecklist(Base):
    """The template version a visit started with."""

    __tablename__ = "visit_checklists"
    __table_args__ = (
        ForeignKeyConstraint(
            ["template_key", "template_version"],
            ["checklist_templates.key", "checklist_templates.version"],
            name="fk_visit_checklists_template",
        ),
    )

    visit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    template_key: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    pinned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChecklistAnswer(Base):
    """An answer as recorded; a later answer to the same step replaces it (history is kept)."""

    __tablename__ = "checklist_answers"
    __table_args__ = (Index("ix_checklist_answers_visit_step", "visit_id", "step_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    photo_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # Device time as the phone reported it, and server time when it arrived.
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # The client's operation id: the same answer sent twice is stored once.
    operation_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
