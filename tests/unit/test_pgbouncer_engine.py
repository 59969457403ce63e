"""Behind PgBouncer (transaction mode) no statement runs outside a transaction."""

from __future__ import annotations

import asyncio

from service.db.engine import behind_pgbouncer, make_engine, make_read_sessionmaker
from service.settings import load_settings


def _isolation(maker: object) -> object:
    bind = maker.kw["bind"]  # type: ignore[attr-defined]
    return bind.get_execution_options().get("isolation_level")


def test_read_sessions_are_transactions_only_behind_pgbouncer() -> None:
    direct = make_engine(load_settings({}).database)
    pooled = make_engine(load_settings({"NARYAD_DB_PGBOUNCER": "1"}).database)
    try:
        assert not behind_pgbouncer(direct)
        assert behind_pgbouncer(pooled)
        # Directly on PostgreSQL a read runs alone; through PgBouncer a statement's prepare
        # and execute could land on two server connections unless a transaction holds one.
        assert _isolation(make_read_sessionmaker(direct)) == "AUTOCOMMIT"
        assert _isolation(make_read_sessionmaker(pooled)) is None
    finally:
        asyncio.run(direct.dispose())
        asyncio.run(pooled.dispose())
