"""What the phone app needs the server to remember: devices, operations, changes, keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UUIDPrimaryKey, utcnow


class Device(UUIDPrimaryKey, Base):
    """A phone a technician logged in from; a revoked device can do nothing."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("user_id", "device_id", name="uq_devices_user_device"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(128))
    app_version: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class SyncOperation(Base):
    """One offline operation, keyed by the client's UUID forever: applied at most once."""

    __tablename__ = "sync_operations"
    __table_args__ = (Index("ix_sync_operations_visit", "visit_id", "device_time"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technicians.id"))
    visit_id: Mapped[uuid.UUID | None]
    type: Mapped[str] = mapped_column(String(32))
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class TechnicianChange(Base):
    """A change a technician's phone must pull; ``txid`` orders commits for the cursor."""

    __tablename__ = "technician_changes"
    __table_args__ = (Index("ix_technician_changes_feed", "technician_id", "txid"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # None: every technician (e.g. a new checklist template version).
    technician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE")
    )
    visit_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(32))
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyKey(Base):
    """A mobile POST's Idempotency-Key with the response to replay.

    The row is written in the transaction that did the work, so it exists exactly when the work
    committed. While that transaction runs, a transaction-level advisory lock on the key marks it
    in progress (a killed process releases it with its connection).
    """

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    # [name, value] pairs in order, names lower-case; the representation headers of the
    # uncompressed body (no Content-Encoding or Content-Length: both are per delivery).
    response_headers: Mapped[list[list[str]]] = mapped_column(JSONB)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VisitRecord(Base):
    """Notes and installed equipment recorded on site."""

    __tablename__ = "visit_records"
    __table_args__ = (Index("ix_visit_records_visit", "visit_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # note | equipment
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operation_id: Mapped[uuid.UUID | None]


# removed / replaced: the technician took the photo back before the act was frozen; the bytes
# are deleted, the row stays as the record of what happened.
PHOTO_STATUSES = ("pending", "stored", "rejected", "expired", "removed", "replaced")


class Photo(UUIDPrimaryKey, Base):
    """A photo the phone uploads straight to the blob store; it counts once confirmed."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint(f"status IN {PHOTO_STATUSES!r}", name="status"),
        CheckConstraint(
            "status <> 'replaced' OR replaced_by_id IS NOT NULL", name="replaced_has_replacement"
        ),
        Index("ix_photos_visit", "visit_id", "status"),
        Index(
            "ix_photos_pending_expiry", "expires_at", postgresql_where=text("status = 'pending'")
        ),
    )

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technicians.id"))
    step_id: Mapped[str | None] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the photo was rejected (the declared type and what the bytes are), for the phone.
    status_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("photos.id", ondelete="SET NULL")
    )
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
