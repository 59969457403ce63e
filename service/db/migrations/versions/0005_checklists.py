"""Checklists: published template versions, the version each visit pinned, answers.

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checklist_templates",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "version", name=op.f("pk_checklist_templates")),
    )
    op.create_table(
        "visit_checklists",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("template_key", sa.String(length=40), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_key", "template_version"],
            ["checklist_templates.key", "checklist_templates.version"],
            name="fk_visit_checklists_template",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_visit_checklists_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_visit_checklists")),
    )
    op.create_table(
        "checklist_answers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("photo_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_checklist_answers_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_checklist_answers_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_answers")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_checklist_answers_operation_id")),
    )
    op.create_index(
        "ix_checklist_answers_visit_step", "checklist_answers", ["visit_id", "step_id", "id"]
    )
    # A published version never changes: visits that pinned it must find the same content.
    op.execute(
        """
        CREATE FUNCTION checklist_templates_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'published checklist templates are immutable'
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER checklist_templates_immutable BEFORE UPDATE OR DELETE "
        "ON checklist_templates FOR EACH ROW EXECUTE FUNCTION checklist_templates_refuse_change()"
    )


def downgrade() -> None:
    op.drop_index("ix_checklist_answers_visit_step", table_name="checklist_answers")
    op.drop_table("checklist_answers")
    op.drop_table("visit_checklists")
    op.execute("DROP TRIGGER checklist_templates_immutable ON checklist_templates")
    op.execute("DROP FUNCTION checklist_templates_refuse_change()")
    op.drop_table("checklist_templates")
