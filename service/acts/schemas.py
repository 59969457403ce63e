"""Act API schemas: the back-office view, the public verification view, upload verdicts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

ActKind = Literal["completion", "handover"]
ActStatus = Literal["draft", "signed", "sealed"]
Verdict = Literal["intact", "modified", "not_signed", "unknown"]
Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$", description="SHA-256, hex")]


class Act(msgspec.Struct):
    """An act of a visit: number, status, the snapshot the customer signed and its hashes."""

    id: uuid.UUID
    public_id: str
    kind: ActKind
    number: str
    status: ActStatus
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    language: str
    act_date: date
    verify_url: str
    snapshot_sha256: Sha256
    pdf_sha256: Sha256 | None
    pdf_size: int | None
    sealed_pdf_sha256: Sha256 | None
    sealed_pdf_size: int | None
    signed_at: datetime | None
    sealed_at: datetime | None
    seal_signer: str | None
    retain_until: datetime | None
    audit_hash: str | None
    created_at: datetime
    updated_at: datetime
    snapshot: Annotated[
        dict[str, Any],
        msgspec.Meta(description="The act snapshot exactly as signed (reports.ActSnapshot)"),
    ]


class ActSummary(msgspec.Struct):
    """An act in a list (without its snapshot)."""

    id: uuid.UUID
    public_id: str
    kind: ActKind
    number: str
    status: ActStatus
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    act_date: date
    snapshot_sha256: Sha256
    pdf_sha256: Sha256 | None
    sealed_pdf_sha256: Sha256 | None
    signed_at: datetime | None
    created_at: datetime


class ActPage(msgspec.Struct):
    """One page of acts, newest first."""

    items: list[ActSummary]
    next_cursor: str | None


class PublicIssuer(msgspec.Struct):
    """The company that issued the act."""

    legal_name: str
    tax_id: str
    tax_id_kind: str


class ActVerification(msgspec.Struct):
    """What anyone holding the act's QR code may see: no personal data beyond initials."""

    public_id: str
    kind: ActKind
    number: str
    act_date: date
    status: ActStatus
    issuer: PublicIssuer
    customer_initials: str
    technician_initials: str
    snapshot_sha256: Sha256
    pdf_sha256: Sha256 | None
    sealed_pdf_sha256: Sha256 | None
    signed_at: datetime | None
    sealed_at: datetime | None
    audit_hash: str | None
    verify_url: str
    # Set when the customer refused to sign (the act then stays a draft).
    refused_at: datetime | None = None
    # The kind of work the act is about (installation, repair, construction, meter_check).
    work_type: str | None = None


class SealCheck(msgspec.Struct):
    """The PAdES seal found in an uploaded PDF, checked against the issuer's certificate."""

    status: Literal["intact", "modified", "invalid", "unsealed"]
    signer: str | None
    signed_at: datetime | None
    detail: str


class PdfVerification(msgspec.Struct):
    """Which act an uploaded PDF is (or claims to be) and whether it is the stored file.

    ``intact``: byte for byte a PDF we stored for a signed act. ``modified``: it names one of
    our acts but its bytes differ from every file stored for it. ``not_signed``: it names an
    act that has not been signed. ``unknown``: it names no act of ours.
    """

    verdict: Verdict
    sha256: Sha256
    size: int
    detail: str
    matched: Literal["signed_pdf", "sealed_pdf"] | None = None
    act: ActVerification | None = None
    # Only when the act is in the caller's scope.
    act_id: uuid.UUID | None = None
    seal: SealCheck | None = None
