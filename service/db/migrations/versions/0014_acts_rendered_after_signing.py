"""Acts are signed in the customer's request and rendered to PDF right after, by the worker.

A signed act may wait for its PDF: ``signed`` now requires the signatures and the signing
time; the PDF's fields are filled in once, by the renderer, and must be there before sealing.
The immutability trigger allows exactly that one change (and signed -> sealed, as before).

Revision ID: 0014
Revises: 0013 (assigned 0012; chained after act-content's 0013, merged into this branch)
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEAL_COLUMNS = (
    "'status', 'sealed_pdf_key', 'sealed_pdf_sha256', 'sealed_pdf_size', 'sealed_at', "
    "'seal_signer', 'audit_hash', 'updated_at'"
)
_PDF_COLUMNS = "'pdf_key', 'pdf_sha256', 'pdf_size', 'audit_hash', 'updated_at'"


def _guard(render_clause: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION acts_guard_signed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status = 'draft' THEN
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
            END IF;
            {render_clause}
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


# The one change a signed act without its PDF accepts: the PDF's fields, once.
_RENDER_CLAUSE = f"""
            IF TG_OP = 'UPDATE' AND OLD.status = 'signed' AND NEW.status = 'signed'
                AND OLD.pdf_key IS NULL AND NEW.pdf_key IS NOT NULL
                AND (to_jsonb(NEW) - ARRAY[{_PDF_COLUMNS}])
                    = (to_jsonb(OLD) - ARRAY[{_PDF_COLUMNS}]) THEN
                RETURN NEW;
            END IF;"""


def upgrade() -> None:
    op.drop_constraint(op.f("ck_acts_signed_has_pdf"), "acts", type_="check")
    op.create_check_constraint(
        op.f("ck_acts_signed_has_signatures"),
        "acts",
        "status = 'draft' OR (signatures_json IS NOT NULL AND signed_at IS NOT NULL)",
    )
    op.create_check_constraint(
        op.f("ck_acts_pdf_complete"),
        "acts",
        "(pdf_key IS NULL) = (pdf_sha256 IS NULL) AND (pdf_key IS NULL) = (pdf_size IS NULL) "
        "AND (status <> 'sealed' OR pdf_key IS NOT NULL)",
    )
    op.execute(_guard(_RENDER_CLAUSE))
    # What the renderer claims: signed acts still without their PDF, oldest first.
    op.execute(
        "CREATE INDEX ix_acts_awaiting_pdf ON acts (signed_at) "
        "WHERE status = 'signed' AND pdf_key IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_acts_awaiting_pdf")
    op.execute(_guard(""))
    op.drop_constraint(op.f("ck_acts_pdf_complete"), "acts", type_="check")
    op.drop_constraint(op.f("ck_acts_signed_has_signatures"), "acts", type_="check")
    op.create_check_constraint(
        op.f("ck_acts_signed_has_pdf"),
        "acts",
        "status = 'draft' OR (pdf_key IS NOT NULL AND pdf_sha256 IS NOT NULL AND pdf_size IS NOT "
        "NULL AND signatures_json IS NOT NULL AND signed_at IS NOT NULL)",
    )
