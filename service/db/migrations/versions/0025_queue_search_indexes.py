"""The dispatch queue's search by phone, name and address reads trigram indexes.

Revision ID: 0025
Revises: 0023

A phone search matches digits anywhere in a customer's phones or an order's contact phones
(``LIKE '%7011234%'``); a trigram GIN index answers that without reading every row. Array
columns cannot be indexed by trigram directly, and ``array_to_string`` is only STABLE, so an
IMMUTABLE SQL function joins the phones (the planner inlines it on both sides).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE FUNCTION phones_text(character varying[]) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN array_to_string($1, ' ')"
    )
    op.execute(
        "CREATE INDEX ix_customers_phones_trgm ON customers "
        "USING gin (phones_text(phones) gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_work_orders_contact_phones_trgm ON work_orders "
        "USING gin (phones_text(contact_phones) gin_trgm_ops)"
    )
    op.execute("CREATE INDEX ix_sites_address_trgm ON sites USING gin (address gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_sites_address_trgm")
    op.execute("DROP INDEX ix_work_orders_contact_phones_trgm")
    op.execute("DROP INDEX ix_customers_phones_trgm")
    op.execute("DROP FUNCTION phones_text(character varying[])")
