"""Indexes for the appeals' KPI family and analysis: deadlines in a period, by territory and
overall, and registrations in a period over every territory (an admin's scope).

Revision ID: 0029
Revises: 0028

Each arm of the family's filter (registered in the period, due in it, open and overdue now) then
has an index of its own, and PostgreSQL ORs their bitmaps instead of reading every appeal of the
caller's territories since the first one (``tests/bench/bench_appeal_kpis.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_appeals_territory_due", "appeals", ["territory_id", "due_at"])
    op.create_index("ix_appeals_due", "appeals", ["due_at"])
    op.create_index("ix_appeals_registered", "appeals", ["registered_at"])


def downgrade() -> None:
    op.drop_index("ix_appeals_registered", table_name="appeals")
    op.drop_index("ix_appeals_due", table_name="appeals")
    op.drop_index("ix_appeals_territory_due", table_name="appeals")
