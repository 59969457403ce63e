"""Idempotency keys hold exact, decodable answers, written with the work they answer.

Rows without an answer were claims whose request died: under the new scheme a key in progress is
an advisory lock, not a row, so they go (a retry runs the request, as the expired lease allowed).
Answers stored gzip-compressed without their Content-Encoding are decompressed; headers become an
ordered list of [name, value] pairs; the lease column goes.

Revision ID: 0017
Revises: 0012
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GZIP_MAGIC = b"\x1f\x8b"


def _decompress_stored_gzip() -> None:
    """Bodies the old middleware stored compressed: JSON never starts with 0x1f 0x8b."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT user_id, key, response_body FROM idempotency_keys "
            "WHERE substring(response_body FROM 1 FOR 2) = :magic"
        ),
        {"magic": GZIP_MAGIC},
    ).all()
    for user_id, key, body in rows:
        try:
            plain = gzip.decompress(bytes(body))
        except (OSError, EOFError, zlib.error):
            continue  # not gzip after all: leave it as it was
        connection.execute(
            sa.text(
                "UPDATE idempotency_keys SET response_body = :body "
                "WHERE user_id = :user_id AND key = :key"
            ),
            {"body": plain, "user_id": user_id, "key": key},
        )


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE response_status IS NULL")
    _decompress_stored_gzip()
    op.execute(
        """
        UPDATE idempotency_keys
        SET response_headers = COALESCE(
            (SELECT jsonb_agg(jsonb_build_array(lower(name), value))
             FROM jsonb_each_text(response_headers) AS h(name, value)),
            '[]'::jsonb)
        WHERE response_headers IS NULL OR jsonb_typeof(response_headers) = 'object'
        """
    )
    op.execute("UPDATE idempotency_keys SET response_body = '' WHERE response_body IS NULL")
    op.drop_column("idempotency_keys", "locked_until")
    for column in ("response_status", "response_headers", "response_body"):
        op.alter_column("idempotency_keys", column, nullable=False)


def downgrade() -> None:
    for column in ("response_status", "response_headers", "response_body"):
        op.alter_column("idempotency_keys", column, nullable=True)
    op.add_column(
        "idempotency_keys",
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(
        """
        UPDATE idempotency_keys
        SET response_headers = COALESCE(
            (SELECT jsonb_object_agg(pair->>0, pair->>1)
             FROM jsonb_array_elements(response_headers) AS pair),
            '{}'::jsonb)
        WHERE jsonb_typeof(response_headers) = 'array'
        """
    )
