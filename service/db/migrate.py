"""Alembic driven from code, so `naryad db ...` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from service.db.base import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the database up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Autogenerate a new revision from the models."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """What autogenerate reflects: only the tables the models declare.

    Called before a table is reflected. The others are never compared anyway (see
    ``include_object``), and some hold PostgreSQL types SQLAlchemy has no class for
    (kpi_day_state.snapshot is a pg_snapshot, kpi_touches.xid an xid8, both created in raw
    SQL by migration 0027), which reflecting would only warn about.
    """
    if type_ == "table":
        return name in Base.metadata.tables
    return True


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """What autogenerate compares: our tables, not PostGIS's own (spatial_ref_sys...)."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))  # type: ignore[no-untyped-call]
