"""Notifications: the transactional outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_address", sa.String(length=1024), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("agreed_window", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('sms', 'email', 'push', 'webhook')",
            name=op.f("ck_outbox_messages_channel"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivering', 'delivered', 'dead')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.CheckConstraint(
            "recipient_kind IN ('customer', 'user', 'technician')",
            name=op.f("ck_outbox_messages_recipient_kind"),
        ),
        sa.CheckConstraint(
            "language IN ('kk', 'ru', 'en')", name=op.f("ck_outbox_messages_language")
        ),
        sa.CheckConstraint(
            "next_attempt_at >= not_before", name=op.f("ck_outbox_messages_not_before_respected")
        ),
        sa.CheckConstraint(
            "status <> 'delivering' OR lease_until IS NOT NULL",
            name=op.f("ck_outbox_messages_leased"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_messages_dedup_key")),
    )
    # Partial indexes: the worker's claim query only ever looks at live rows.
    op.create_index(
        "ix_outbox_messages_due",
        "outbox_messages",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_outbox_messages_lease",
        "outbox_messages",
        ["lease_until"],
        unique=False,
        postgresql_where=sa.text("status = 'delivering'"),
    )
    op.create_index(
        "ix_outbox_messages_finished",
        "outbox_messages",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('delivered', 'dead')"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_outbox_messages_finished",
        table_name="outbox_messages",
        postgresql_where=sa.text("status IN ('delivered', 'dead')"),
    )
    op.drop_index(
        "ix_outbox_messages_lease",
        table_name="outbox_messages",
        postgresql_where=sa.text("status = 'delivering'"),
    )
    op.drop_index(
        "ix_outbox_messages_due",
        table_name="outbox_messages",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("outbox_messages")
