"""Escalations of SLA clocks (warning, breach, head of unit) and their acknowledgements.

Revision ID: 0011
Revises: 0010

One row per clock, level and due time: the unique constraint is what makes the periodic job
raise each escalation once, however many workers run it. A partial index on open clocks by due
time serves the job's scan.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient_role", sa.String(length=20), nullable=False),
        sa.Column(
            "recipient_ids", postgresql.ARRAY(sa.Uuid()), server_default="{}", nullable=False
        ),
        sa.Column("customer_new_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "target IN ('response', 'arrival', 'resolution')", name=op.f("ck_escalations_target")
        ),
        sa.CheckConstraint(
            "level IN ('warning', 'breach', 'head')", name=op.f("ck_escalations_level")
        ),
        sa.CheckConstraint(
            "recipient_role IN ('dispatcher', 'coordinator', 'supervisor')",
            name=op.f("ck_escalations_recipient_role"),
        ),
        sa.CheckConstraint(
            "(acknowledged_at IS NULL AND ack_comment IS NULL) OR "
            "(acknowledged_at IS NOT NULL AND length(btrim(ack_comment)) > 0)",
            name=op.f("ck_escalations_ack_comment"),
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["users.id"],
            name=op.f("fk_escalations_acknowledged_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_escalations_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint(
            "work_order_id", "target", "level", "due_at", name="uq_escalations_occurrence"
        ),
    )
    op.create_index(
        "ix_escalations_pending",
        "escalations",
        ["created_at", "id"],
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_index("ix_escalations_created", "escalations", ["created_at", "id"])
    op.create_index(
        "ix_sla_clocks_open_due",
        "sla_clocks",
        ["due_at"],
        postgresql_where=sa.text("stopped_at IS NULL AND due_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_open_due", table_name="sla_clocks")
    op.drop_index("ix_escalations_created", table_name="escalations")
    op.drop_index("ix_escalations_pending", table_name="escalations")
    op.drop_table("escalations")
