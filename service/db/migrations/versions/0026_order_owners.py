"""Owners of overdue orders on the coordinators' side.

Revision ID: 0026
Revises: 0025

A row means somebody took the order or had it handed over (with a note); an order without a row
belongs to its territory's coordinator on duty, computed when read.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_owners",
        sa.Column("work_order_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_order_owners")),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_order_owners_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_order_owners_user_id_users"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_order_owners_user"), "order_owners", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_order_owners_user"), table_name="order_owners")
    op.drop_table("order_owners")
