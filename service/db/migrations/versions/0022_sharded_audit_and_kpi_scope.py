"""Audit chains per shard of aggregates.

Revision ID: 0022
Revises: 0020

Every audit append took one global advisory lock held to COMMIT, so every audited write in the
system queued behind the longest one. Entries now join one of 64 chains by their aggregate
(service/audit/services.py), each with its own lock. The entries already written stay as they
are in chain 0, the legacy chain, which `naryad audit verify` checks exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default fills existing rows without rewriting them (no UPDATE trigger fires);
    # it is dropped at once so every new entry names its chain.
    op.add_column(
        "audit_log",
        sa.Column("chain", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.alter_column("audit_log", "chain", server_default=None)
    op.create_index("ix_audit_log_chain", "audit_log", ["chain", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_chain", table_name="audit_log")
    op.drop_column("audit_log", "chain")
