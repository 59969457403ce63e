"""Holidays remember their source: the `holidays` library or an administrator.

Revision ID: 0024
Revises: 0020

Dated exceptions are now seeded and refreshed yearly from the `holidays` library
(`naryad calendar refresh`); a refresh replaces the library's rows and never touches an
administrator's. Rows that are exactly the hand-kept seed of 0009 are marked as the library's,
so the first refresh corrects them (Russia's 2027 transfers, Kazakhstan's Constitution Day);
every other row was entered through the admin API and stays an override.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seed_module() -> ModuleType:
    # The seed lists live in 0009; reading them there keeps one copy of the hand-kept data.
    path = next(Path(__file__).parent.glob("0009_*.py"))
    spec = importlib.util.spec_from_file_location("naryad_migration_0009", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.add_column(
        "holidays",
        sa.Column("source", sa.String(length=8), server_default="admin", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_holidays_source"), "holidays", "source IN ('library', 'admin')"
    )
    seed = _seed_module()
    mark = sa.text(
        "UPDATE holidays SET source = 'library' FROM business_calendars c "
        "WHERE c.id = holidays.calendar_id AND c.code = :code AND holidays.day = :day "
        "AND holidays.name = :name AND holidays.kind = :kind "
        "AND holidays.shorten_minutes = :shorten"
    )
    for code, days in (("KZ", seed.KZ_DAYS), ("RU", seed.RU_DAYS)):
        for day, name, kind, shorten in days:
            op.execute(
                mark.bindparams(
                    code=code, day=date.fromisoformat(day), name=name, kind=kind, shorten=shorten
                )
            )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_holidays_source"), "holidays", type_="check")
    op.drop_column("holidays", "source")
