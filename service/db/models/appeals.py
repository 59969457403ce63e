"""Customer appeals and complaints (seed 001 §6.1-6.2): registration, work, answer, analysis."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey, utcnow

APPEAL_KINDS = ("question", "request", "complaint", "quality_claim")
APPEAL_CHANNELS = ("phone", "visit", "office", "letter", "web")
REPLY_CHANNELS = ("sms", "email")
APPEAL_STATES = ("registered", "in_progress", "answered", "refused")
OPEN_APPEAL_STATES = ("registered", "in_progress")
DECISIONS = ("justified", "partly", "unjustified")
# Seed 001 §6.1: the only grounds on which an appeal is left unconsidered (customer notified).
REFUSAL_GROUNDS = (
    "abusive",  # obscene or insulting language, threats to life, health or property
    "repeat_without_new_facts",  # already answered on the merits, no new arguments
    "protected_secret",  # cannot be answered without disclosing a protected secret
    "unreadable",  # the text cannot be read
    "substance_unclear",  # the text does not allow the substance to be determined
)
DAY_KINDS = ("calendar", "working")
APPEAL_ESCALATION_LEVELS = ("warning", "breach", "head")


class AppealPolicy(Base):
    """The control deadlines of one kind of appeal (defaults from seeds 001 and 004)."""

    __tablename__ = "appeal_policies"
    __table_args__ = (
        CheckConstraint(f"kind IN {APPEAL_KINDS!r}", name="kind"),
        CheckConstraint(f"day_kind IN {DAY_KINDS!r}", name="day_kind"),
        CheckConstraint("merits_days >= 1 AND merits_days <= max_days", name="merits_days"),
        CheckConstraint("max_days <= 60", name="max_days"),
        CheckConstraint("competence_working_days BETWEEN 1 AND 30", name="competence_days"),
        CheckConstraint("warning_ratio > 0 AND warning_ratio < 1", name="warning_ratio"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    merits_days: Mapped[int] = mapped_column(SmallInteger)
    max_days: Mapped[int] = mapped_column(SmallInteger)
    day_kind: Mapped[str] = mapped_column(String(8))
    competence_working_days: Mapped[int] = mapped_column(SmallInteger, default=5)
    warning_ratio: Mapped[float] = mapped_column(Float, default=0.7)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class AppealReason(UUIDPrimaryKey, Base):
    """One entry of the complaint-reason taxonomy the operator edits (names in kk/ru/en)."""

    __tablename__ = "appeal_reasons"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")


class Appeal(UUIDPrimaryKey, Timestamps, Base):
    """A customer's appeal: question, request, complaint or claim on quality."""

    __tablename__ = "appeals"
    __table_args__ = (
        CheckConstraint(f"kind IN {APPEAL_KINDS!r}", name="kind"),
        CheckConstraint(f"channel IN {APPEAL_CHANNELS!r}", name="channel"),
        CheckConstraint(f"reply_channel IN {REPLY_CHANNELS!r}", name="reply_channel"),
        CheckConstraint(f"state IN {APPEAL_STATES!r}", name="state"),
        CheckConstraint("language IN ('ru', 'kk', 'en')", name="language"),
        CheckConstraint(
            f"decision IS NULL OR (decision IN {DECISIONS!r} "
            "AND length(btrim(decision_reasons)) > 0)",
            name="decision",
        ),
        CheckConstraint(
            f"refusal_ground IS NULL OR refusal_ground IN {REFUSAL_GROUNDS!r}",
            name="refusal_ground",
        ),
        CheckConstraint(
            "state <> 'refused' OR refusal_ground IS NOT NULL", name="refused_has_ground"
        ),
        CheckConstraint(
            "state <> 'answered' OR (answered_at IS NOT NULL AND answer_text IS NOT NULL)",
            name="answered",
        ),
        CheckConstraint(
            "kind NOT IN ('complaint', 'quality_claim') OR state <> 'answered' "
            "OR decision IS NOT NULL",
            name="complaint_decided",
        ),
        Index("ix_appeals_territory", "territory_id", "registered_at", "id"),
        Index("ix_appeals_open_due", "due_at", postgresql_where=text("closed_at IS NULL")),
        Index("ix_appeals_customer", "customer_id", "kind", "registered_at"),
        # The KPI family and the analysis (migration 0029): one index for each arm of their filter.
        Index("ix_appeals_territory_due", "territory_id", "due_at"),
        Index("ix_appeals_due", "due_at"),
        Index("ix_appeals_registered", "registered_at"),
    )

    number: Mapped[str] = mapped_column(String(24), unique=True)
    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    reply_channel: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(2))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT")
    )
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id", ondelete="RESTRICT"))
    act_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("acts.id", ondelete="RESTRICT"))
    author_name: Mapped[str] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(16))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="registered")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The control deadline (answer on the merits) and when the desk is warned of it.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    warning_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The latest the deadline may be extended to, and the outside-competence notice's deadline.
    max_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    competence_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    extended_reason: Mapped[str | None] = mapped_column(Text)
    outside_competence_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision: Mapped[str | None] = mapped_column(String(12))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    reason_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default="{}"
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusal_ground: Mapped[str | None] = mapped_column(String(32))
    refusal_note: Mapped[str | None] = mapped_column(Text)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Answered or refused: the clock stops here.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The customer's status link: a token derived from the id, stored only as its hash.
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # An earlier complaint of the same customer this one repeats (for the analysis).
    repeat_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appeals.id", ondelete="SET NULL")
    )


class AppealAttachment(UUIDPrimaryKey, Base):
    """A file the customer or staff attached, stored in the blob store after its bytes checked."""

    __tablename__ = "appeal_attachments"

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    object_key: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AppealNote(UUIDPrimaryKey, Base):
    """An internal note on an appeal (never shown to the customer)."""

    __tablename__ = "appeal_notes"
    __table_args__ = (Index("ix_appeal_notes_appeal", "appeal_id", "created_at"),)

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AppealUnitRequest(UUIDPrimaryKey, Base):
    """A request for documents or facts to another unit, with its own due date."""

    __tablename__ = "appeal_unit_requests"

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    unit: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AppealMeasure(UUIDPrimaryKey, Base):
    """A corrective measure set for a justified complaint: what, who, by when."""

    __tablename__ = "appeal_measures"

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AppealLetter(UUIDPrimaryKey, Base):
    """The answer letter: rendered once, stored immutably, verifiable by its public id."""

    __tablename__ = "appeal_letters"

    appeal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appeals.id", ondelete="RESTRICT"), unique=True
    )
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(2))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    snapshot_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    pdf_key: Mapped[str] = mapped_column(String(300))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(BigInteger)
    sealed_pdf_key: Mapped[str | None] = mapped_column(String(300))
    sealed_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AppealEscalation(UUIDPrimaryKey, Base):
    """One escalation level of an unanswered appeal's deadline (raised once per due time)."""

    __tablename__ = "appeal_escalations"
    __table_args__ = (
        UniqueConstraint("appeal_id", "level", "due_at", name="uq_appeal_escalations_occurrence"),
        CheckConstraint(f"level IN {APPEAL_ESCALATION_LEVELS!r}", name="level"),
    )

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(8))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipient_role: Mapped[str] = mapped_column(String(20))
    recipient_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), default=list, server_default="{}"
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AppealNumberCounter(Base):
    """Gapless yearly registration numbers (``A-2026-000042``)."""

    __tablename__ = "appeal_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)
