"""Signing: customer links (single-use tokens) and signature evidence.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("act_id", sa.Uuid(), nullable=True),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("otp_hash", sa.String(length=64), nullable=True),
        sa.Column("otp_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("otp_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('sign', 'copy', 'rating')", name=op.f("ck_customer_links_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["act_id"], ["acts.id"], name=op.f("fk_customer_links_act_id_acts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_customer_links_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_customer_links_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_customer_links_token_hash")),
    )
    op.create_table(
        "act_signatures",
        sa.Column("act_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("signer_role", sa.String(length=12), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("strokes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("png_key", sa.String(length=300), nullable=False),
        sa.Column("png_sha256", sa.String(length=64), nullable=False),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("server_time", sa.DateTime(timezone=True), nullable=False),
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
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("technician_id", sa.Uuid(), nullable=True),
        sa.Column("otp_verified", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"], ["acts.id"], name=op.f("fk_act_signatures_act_id_acts")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["customer_links.id"],
            name=op.f("fk_act_signatures_link_id_customer_links"),
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_act_signatures_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_act_signatures")),
    )
    # Signature evidence is never edited or removed.
    op.execute(
        """
        CREATE FUNCTION act_signatures_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'act signatures are immutable' USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER act_signatures_immutable BEFORE UPDATE OR DELETE ON act_signatures "
        "FOR EACH ROW EXECUTE FUNCTION act_signatures_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER act_signatures_immutable ON act_signatures")
    op.execute("DROP FUNCTION act_signatures_refuse_change()")
    op.drop_table("act_signatures")
    op.drop_table("customer_links")
