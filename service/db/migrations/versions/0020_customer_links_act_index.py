"""An index on the signing links of an act, for the public verify page.

Revision ID: 0020
Revises: 0014

The verify page asks whether the customer refused to sign an act: the act's signing links,
which had no index (customer_links is searched by token hash otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_customer_links_sign_act",
        "customer_links",
        ["act_id"],
        postgresql_where=sa.text("purpose = 'sign'"),
    )


def downgrade() -> None:
    op.drop_index("ix_customer_links_sign_act", table_name="customer_links")
