"""Ratings: follow-up tasks for coordinators; one rating link per visit.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = "ARRAY['low_score', 'id_not_shown', 'no_overshoes', 'not_demonstrated', 'area_not_clean']"


def upgrade() -> None:
    op.create_table(
        "follow_up_tasks",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("rating_id", sa.Uuid(), nullable=False),
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("reasons", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_follow_up_tasks_status")),
        sa.CheckConstraint(
            f"cardinality(reasons) > 0 AND reasons <@ {REASONS}::varchar[]",
            name=op.f("ck_follow_up_tasks_reasons"),
        ),
        sa.CheckConstraint(
            "status = 'open' OR (resolved_at IS NOT NULL AND resolution IS NOT NULL)",
            name=op.f("ck_follow_up_tasks_resolved"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_follow_up_tasks_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_follow_up_tasks_visit_id_visits"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["ratings.id"],
            name=op.f("fk_follow_up_tasks_rating_id_ratings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_follow_up_tasks_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_follow_up_tasks_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name=op.f("fk_follow_up_tasks_resolved_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_tasks")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_follow_up_tasks_rating_id")),
    )
    op.create_index(
        "ix_follow_up_tasks_territory",
        "follow_up_tasks",
        ["territory_id", "status", "created_at", "id"],
    )
    op.create_index(
        "ix_follow_up_tasks_owner_open",
        "follow_up_tasks",
        ["owner_id"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "uq_customer_links_rating_visit",
        "customer_links",
        ["visit_id"],
        unique=True,
        postgresql_where=sa.text("purpose = 'rating'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_customer_links_rating_visit",
        table_name="customer_links",
        postgresql_where=sa.text("purpose = 'rating'"),
    )
    op.drop_index(
        "ix_follow_up_tasks_owner_open",
        table_name="follow_up_tasks",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index("ix_follow_up_tasks_territory", table_name="follow_up_tasks")
    op.drop_table("follow_up_tasks")
