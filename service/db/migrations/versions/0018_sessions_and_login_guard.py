"""Server-side sessions checked on every request; login protection shared by all processes.

Revision ID: 0018
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_auth_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name="fk_auth_sessions_device_id_devices",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_user", "auth_sessions", ["user_id"])
    op.create_index("ix_auth_sessions_device", "auth_sessions", ["device_id"])
    # Existing logins keep working: one session per refresh-token family, revoked when any of
    # its tokens was revoked (families are always revoked whole).
    op.execute(
        """
        INSERT INTO auth_sessions (id, user_id, device_id, created_at, revoked_at)
        SELECT r.family_id, min(r.user_id::text)::uuid, min(d.id::text)::uuid,
               min(r.issued_at), max(r.revoked_at)
        FROM refresh_tokens r
        LEFT JOIN devices d ON d.user_id = r.user_id AND d.device_id = r.device_id
        GROUP BY r.family_id
        """
    )
    op.create_table(
        "login_rate_windows",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name="pk_login_rate_windows"),
    )
    op.create_index("ix_login_rate_windows_start", "login_rate_windows", ["window_start"])
    op.create_table(
        "login_failures",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_last", "login_failures", ["last_attempt_at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("login_rate_windows")
    op.drop_table("auth_sessions")
