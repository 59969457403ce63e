"""Audit chains per shard of aggregates; the territory copied onto the rows KPIs count.

Revision ID: 0022
Revises: 0024

Every audit append took one global advisory lock held to COMMIT, so every audited write in the
system queued behind the longest one. Entries now join one of 64 chains by their aggregate
(service/audit/services.py), each with its own lock. The entries already written stay as they
are in chain 0, the legacy chain, which `naryad audit verify` checks exactly as before.

KPIs for a month joined work_orders from visits, clocks, ratings and events only to scope them to
territories, reading the whole work_orders index each time. Those rows now carry their work
order's territory: filled on insert by a trigger (so no writer, service, import or script, can
leave it out), backfilled here, and followed when an order's territory changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SCOPED_TABLES = ("visits", "sla_clocks", "ratings", "work_order_events")


def upgrade() -> None:
    _shard_audit()
    _territory_copies()


def _territory_copies() -> None:
    op.execute(
        """
        CREATE FUNCTION copy_work_order_territory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.territory_id IS NULL THEN
                SELECT territory_id INTO NEW.territory_id
                FROM work_orders WHERE id = NEW.work_order_id;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    for table in SCOPED_TABLES:
        op.add_column(table, sa.Column("territory_id", sa.Uuid(), nullable=True))
        op.execute(
            f"UPDATE {table} AS t SET territory_id = wo.territory_id FROM work_orders wo"  # noqa: S608
            " WHERE wo.id = t.work_order_id"
        )
        op.execute(
            f"CREATE TRIGGER {table}_territory BEFORE INSERT ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION copy_work_order_territory()"
        )
    op.execute(
        """
        CREATE FUNCTION follow_work_order_territory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE visits SET territory_id = NEW.territory_id WHERE work_order_id = NEW.id;
            UPDATE sla_clocks SET territory_id = NEW.territory_id WHERE work_order_id = NEW.id;
            UPDATE ratings SET territory_id = NEW.territory_id WHERE work_order_id = NEW.id;
            UPDATE work_order_events SET territory_id = NEW.territory_id
            WHERE work_order_id = NEW.id;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER work_orders_territory_follows AFTER UPDATE OF territory_id ON work_orders"
        " FOR EACH ROW WHEN (OLD.territory_id IS DISTINCT FROM NEW.territory_id)"
        " EXECUTE FUNCTION follow_work_order_territory()"
    )


def _shard_audit() -> None:
    # A constant default fills existing rows without rewriting them (no UPDATE trigger fires);
    # it is dropped at once so every new entry names its chain.
    op.add_column(
        "audit_log",
        sa.Column("chain", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.alter_column("audit_log", "chain", server_default=None)
    op.create_index("ix_audit_log_chain", "audit_log", ["chain", "id"])


def downgrade() -> None:
    op.execute("DROP TRIGGER work_orders_territory_follows ON work_orders")
    op.execute("DROP FUNCTION follow_work_order_territory()")
    for table in SCOPED_TABLES:
        op.execute(f"DROP TRIGGER {table}_territory ON {table}")
        op.drop_column(table, "territory_id")
    op.execute("DROP FUNCTION copy_work_order_territory()")
    op.drop_index("ix_audit_log_chain", table_name="audit_log")
    op.drop_column("audit_log", "chain")
