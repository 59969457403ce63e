"""Photos can be removed or replaced by the technician; a refusal keeps its reason.

Revision ID: 0015
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('pending', 'stored', 'rejected', 'expired')"
NEW_STATUSES = "status IN ('pending', 'stored', 'rejected', 'expired', 'removed', 'replaced')"


def upgrade() -> None:
    op.add_column("photos", sa.Column("status_reason", sa.Text(), nullable=True))
    op.add_column("photos", sa.Column("replaced_by_id", sa.Uuid(), nullable=True))
    op.add_column("photos", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(
        op.f("fk_photos_replaced_by_id_photos"),
        "photos",
        "photos",
        ["replaced_by_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.drop_constraint(op.f("ck_photos_status"), "photos", type_="check")
    op.create_check_constraint(op.f("ck_photos_status"), "photos", NEW_STATUSES)
    op.create_check_constraint(
        op.f("ck_photos_replaced_has_replacement"),
        "photos",
        "status <> 'replaced' OR replaced_by_id IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_photos_replaced_has_replacement"), "photos", type_="check")
    op.drop_constraint(op.f("ck_photos_status"), "photos", type_="check")
    # Removed and replaced photos have no bytes left: to the old schema they are expired.
    op.execute("UPDATE photos SET status = 'expired' WHERE status IN ('removed', 'replaced')")
    op.create_check_constraint(op.f("ck_photos_status"), "photos", OLD_STATUSES)
    op.drop_constraint(op.f("fk_photos_replaced_by_id_photos"), "photos", type_="foreignkey")
    op.drop_column("photos", "removed_at")
    op.drop_column("photos", "replaced_by_id")
    op.drop_column("photos", "status_reason")
