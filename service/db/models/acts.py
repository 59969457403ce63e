"""Acts (акты): the signed record of a visit's work, and the gapless act number counters."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey

ACT_KINDS = ("completion", "handover")
ACT_STATUSES = ("draft", "signed", "sealed")
# The message the immutability trigger raises; services map it to 409.
IMMUTABLE_MARKER = "act_immutable"


class Act(UUIDPrimaryKey, Timestamps, Base):
    """One act of a visit: its frozen snapshot, the stored PDF(s) and their hashes.

    Once signed, the database refuses every change except filling in the PDF once (0014) and
    signed -> sealed (trigger in 0008).
    """

    __tablename__ = "acts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACT_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {ACT_STATUSES!r}", name="status"),
        # A signed act may wait a moment for its PDF (rendered by the worker, 0014).
        CheckConstraint(
            "status = 'draft' OR (signatures_json IS NOT NULL AND signed_at IS NOT NULL)",
            name="signed_has_signatures",
        ),
        CheckConstraint(
            "(pdf_key IS NULL) = (pdf_sha256 IS NULL) AND (pdf_key IS NULL) = (pdf_size IS NULL) "
            "AND (status <> 'sealed' OR pdf_key IS NOT NULL)",
            name="pdf_complete",
        ),
        CheckConstraint(
            "status <> 'sealed' OR (sealed_pdf_key IS NOT NULL AND sealed_pdf_sha256 IS NOT NULL "
            "AND sealed_pdf_size IS NOT NULL AND sealed_at IS NOT NULL)",
            name="sealed_has_pdf",
        ),
        UniqueConstraint("issuer_tax_id", "number", name="uq_acts_issuer_number"),
        # One act of each kind per visit: a retried draft reuses its number instead of a new one.
        UniqueConstraint("visit_id", "kind", name="uq_acts_visit_kind"),
        UniqueConstraint(
            "issuer_tax_id", "kind", "year", "sequence", name="uq_acts_issuer_kind_year_sequence"
        ),
        Index("ix_acts_created", text("created_at DESC"), text("id DESC")),
        Index("ix_acts_work_order", "work_order_id"),
        Index("ix_acts_pdf_sha256", "pdf_sha256"),
        Index("ix_acts_sealed_pdf_sha256", "sealed_pdf_sha256"),
        Index(
            "ix_acts_awaiting_pdf",
            "signed_at",
            postgresql_where=text("status = 'signed' AND pdf_key IS NULL"),
        ),
        # The renderer writes the first half of the snapshot hash as the PDF's permanent /ID.
        Index("ix_acts_snapshot_id_prefix", text("left(snapshot_sha256, 32)")),
    )

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id", ondelete="RESTRICT"))
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default="draft")
    issuer_tax_id: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    # Unguessable id printed in the QR code; the public verification page is keyed by it.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(2))
    act_date: Mapped[date] = mapped_column(Date)
    # What the public page may show, copied here so it never parses the snapshot.
    issuer_name: Mapped[str] = mapped_column(String(300))
    issuer_tax_id_kind: Mapped[str] = mapped_column(String(3))
    customer_initials: Mapped[str] = mapped_column(String(24))
    technician_initials: Mapped[str] = mapped_column(String(24))
    # reports.canonical_json(snapshot), kept byte for byte: its SHA-256 is what was signed.
    snapshot_json: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    signatures_json: Mapped[str | None] = mapped_column(Text)
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    retain_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    sealed_pdf_key: Mapped[str | None] = mapped_column(String(300))
    sealed_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    sealed_pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    sealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seal_signer: Mapped[str | None] = mapped_column(String(300))
    # Hash of the latest audit entry about this act: where it sits in the audit chain.
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class ActNumberCounter(Base):
    """The last act number issued per issuer, kind and year (bumped with UPDATE ... RETURNING)."""

    __tablename__ = "act_number_counters"
    __table_args__ = (PrimaryKeyConstraint("issuer_tax_id", "kind", "year"),)

    issuer_tax_id: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer)
