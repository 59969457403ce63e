"""Technicians' personnel numbers (табельный номер), printed on acts.

Revision ID: 0013
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: existing technicians have no number until an admin records one; the act then
    # prints a dash rather than an invented number.
    op.add_column("technicians", sa.Column("personnel_no", sa.String(length=20), nullable=True))
    op.create_unique_constraint("uq_technicians_personnel_no", "technicians", ["personnel_no"])


def downgrade() -> None:
    op.drop_constraint("uq_technicians_personnel_no", "technicians", type_="unique")
    op.drop_column("technicians", "personnel_no")
