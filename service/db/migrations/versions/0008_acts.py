"""Acts: act records with their snapshots and PDFs, gapless number counters, immutability.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns a signed act may still change, and only while becoming sealed.
_SEAL_COLUMNS = (
    "'status', 'sealed_pdf_key', 'sealed_pdf_sha256', 'sealed_pdf_size', 'sealed_at', "
    "'seal_signer', 'audit_hash', 'updated_at'"
)


def upgrade() -> None:
    op.create_table(
        "act_number_counters",
        sa.Column("issuer_tax_id", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "issuer_tax_id", "kind", "year", name=op.f("pk_act_number_counters")
        ),
    )
    op.create_table(
        "acts",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("issuer_tax_id", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("act_date", sa.Date(), nullable=False),
        sa.Column("issuer_name", sa.String(length=300), nullable=False),
        sa.Column("issuer_tax_id_kind", sa.String(length=3), nullable=False),
        sa.Column("customer_initials", sa.String(length=24), nullable=False),
        sa.Column("technician_initials", sa.String(length=24), nullable=False),
        sa.Column("snapshot_json", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("signatures_json", sa.Text(), nullable=True),
        sa.Column("pdf_key", sa.String(length=300), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("pdf_size", sa.BigInteger(), nullable=True),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.Uuid(), nullable=True),
        sa.Column("sealed_pdf_key", sa.String(length=300), nullable=True),
        sa.Column("sealed_pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("sealed_pdf_size", sa.BigInteger(), nullable=True),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seal_signer", sa.String(length=300), nullable=True),
        sa.Column("audit_hash", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('completion', 'handover')", name=op.f("ck_acts_kind")),
        sa.CheckConstraint(
            "status <> 'sealed' OR (sealed_pdf_key IS NOT NULL AND sealed_pdf_sha256 IS NOT NULL AND sealed_pdf_size IS NOT NULL AND sealed_at IS NOT NULL)",
            name=op.f("ck_acts_sealed_has_pdf"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (pdf_key IS NOT NULL AND pdf_sha256 IS NOT NULL AND pdf_size IS NOT NULL AND signatures_json IS NOT NULL AND signed_at IS NOT NULL)",
            name=op.f("ck_acts_signed_has_pdf"),
        ),
        sa.CheckConstraint("status IN ('draft', 'signed', 'sealed')", name=op.f("ck_acts_status")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_acts_created_by_users")
        ),
        sa.ForeignKeyConstraint(["signed_by"], ["users.id"], name=op.f("fk_acts_signed_by_users")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_acts_visit_id_visits"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_acts_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acts")),
        sa.UniqueConstraint(
            "issuer_tax_id", "kind", "year", "sequence", name="uq_acts_issuer_kind_year_sequence"
        ),
        sa.UniqueConstraint("issuer_tax_id", "number", name="uq_acts_issuer_number"),
        sa.UniqueConstraint("visit_id", "kind", name="uq_acts_visit_kind"),
        sa.UniqueConstraint("public_id", name=op.f("uq_acts_public_id")),
        sa.UniqueConstraint("snapshot_sha256", name=op.f("uq_acts_snapshot_sha256")),
    )
    op.create_index(
        "ix_acts_created",
        "acts",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index("ix_acts_pdf_sha256", "acts", ["pdf_sha256"], unique=False)
    op.create_index("ix_acts_sealed_pdf_sha256", "acts", ["sealed_pdf_sha256"], unique=False)
    op.create_index(
        "ix_acts_snapshot_id_prefix",
        "acts",
        [sa.literal_column("left(snapshot_sha256, 32)")],
        unique=False,
    )
    op.create_index("ix_acts_work_order", "acts", ["work_order_id"], unique=False)
    # A signed act is immutable in the database itself, not only in code: the only change
    # allowed after signing is signed -> sealed, filling in the sealed PDF's fields.
    op.execute(
        f"""
        CREATE FUNCTION acts_guard_signed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status = 'draft' THEN
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.status = 'signed' AND NEW.status = 'sealed'
                AND (to_jsonb(NEW) - ARRAY[{_SEAL_COLUMNS}])
                    = (to_jsonb(OLD) - ARRAY[{_SEAL_COLUMNS}]) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'act_immutable: act % is % and cannot be changed or deleted',
                OLD.number, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER acts_immutable_once_signed BEFORE UPDATE OR DELETE ON acts "
        "FOR EACH ROW EXECUTE FUNCTION acts_guard_signed()"
    )
    op.execute(
        """
        CREATE FUNCTION acts_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'act_immutable: acts cannot be truncated'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER acts_no_truncate BEFORE TRUNCATE ON acts "
        "FOR EACH STATEMENT EXECUTE FUNCTION acts_refuse_truncate()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER acts_no_truncate ON acts")
    op.execute("DROP FUNCTION acts_refuse_truncate()")
    op.execute("DROP TRIGGER acts_immutable_once_signed ON acts")
    op.execute("DROP FUNCTION acts_guard_signed()")
    op.drop_index("ix_acts_work_order", table_name="acts")
    op.drop_index("ix_acts_snapshot_id_prefix", table_name="acts")
    op.drop_index("ix_acts_sealed_pdf_sha256", table_name="acts")
    op.drop_index("ix_acts_pdf_sha256", table_name="acts")
    op.drop_index("ix_acts_created", table_name="acts")
    op.drop_table("acts")
    op.drop_table("act_number_counters")
