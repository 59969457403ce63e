"""Incidents of visits; customer links' send time; the outbox row's link.

Revision ID: 0019
Revises: 0015

A safety exit writes an incident with the outcome (one per visit and kind). A customer link's
lifetime counts from the moment the worker sent the message carrying it, so the outbox row
names the link and the link records when it was sent. Finished outbox rows no longer keep the
links and one-time codes they carried; rows finished before that are stripped here, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows finished (delivered or dead) before the worker redacted them at settle time still hold
# the links and one-time codes they carried. The keys are every context field a template treats
# as a secret at this revision (templates.all_secret_fields()), written out: a migration does
# not follow later template changes.
REDACT_FINISHED = """
UPDATE outbox_messages
SET context = context - ARRAY['act_url', 'code', 'rating_url']
WHERE status IN ('delivered', 'dead')
  AND context ?| ARRAY['act_url', 'code', 'rating_url']
"""


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("notified_role", sa.String(length=32), nullable=False),
        sa.Column(
            "notified_user_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(acknowledged_at IS NULL AND ack_comment IS NULL AND acknowledged_by IS NULL) OR "
            "(acknowledged_at IS NOT NULL AND length(btrim(ack_comment)) > 0)",
            name=op.f("ck_incidents_ack_comment"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_incidents_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_incidents_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_incidents_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_incidents_technician_id_technicians"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["users.id"],
            name=op.f("fk_incidents_acknowledged_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("visit_id", "kind", name="uq_incidents_visit_kind"),
    )
    op.create_index(
        "ix_incidents_pending",
        "incidents",
        ["territory_id", "created_at"],
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_index(
        "ix_incidents_territory_created", "incidents", ["territory_id", "created_at", "id"]
    )
    op.add_column("customer_links", sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox_messages", sa.Column("link_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_outbox_messages_link_id_customer_links"),
        "outbox_messages",
        "customer_links",
        ["link_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(REDACT_FINISHED)


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_outbox_messages_link_id_customer_links"), "outbox_messages", type_="foreignkey"
    )
    op.drop_column("outbox_messages", "link_id")
    op.drop_column("customer_links", "sent_at")
    op.drop_index("ix_incidents_territory_created", table_name="incidents")
    op.drop_index(
        "ix_incidents_pending",
        table_name="incidents",
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.drop_table("incidents")
