"""Statements compiled once per shape and run on the request session's asyncpg connection.

A read built with SQLAlchemy Core each request pays for building the statement, for its cache
key and for the result layer on every call (the overdue board spent a third of its time there).
Here a statement is built once per *shape* (which filters are present, not their values) with
named parameters, compiled to asyncpg's SQL, and kept; a request only lists its values in the
compiled order and fetches plain records (``service.db.driver``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import BindParameter, bindparam
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from service.db.driver import driver_connection

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


def param(name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
    """A named parameter whose value each request gives (none at compile time)."""
    return bindparam(name, None, type_=type_, required=False)


@dataclass(frozen=True, slots=True)
class Compiled:
    """One shape's SQL and how to order a request's values for it."""

    sql: str
    names: tuple[str, ...]
    # Values fixed in the statement itself (constant IN lists), by parameter name.
    fixed: Mapping[str, Any]

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``values`` (named as in the statement)."""
        return [values[name] if name in values else self.fixed[name] for name in self.names]

    async def fetch(self, session: AsyncSession, values: Mapping[str, Any]) -> list[asyncpg.Record]:
        """The rows, on the session's connection (inside its transaction, if it has one)."""
        driver = await driver_connection(session)
        rows: list[asyncpg.Record] = await driver.fetch(self.sql, *self.arguments(values))
        return rows


def compile_statement(statement: ClauseElement) -> Compiled:
    """asyncpg SQL of a statement whose per-request values are all ``param``s."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    fixed = {name: value for name, value in compiled.params.items() if value is not None}
    return Compiled(sql=compiled.string, names=names, fixed=fixed)


class StatementCache:
    """Compiled statements by shape; a process builds each shape once."""

    def __init__(self) -> None:
        self._compiled: dict[Hashable, Compiled] = {}

    def get(self, shape: Hashable, build: Callable[[], ClauseElement]) -> Compiled:
        """The shape's compiled statement, built and compiled on first use."""
        found = self._compiled.get(shape)
        if found is None:
            found = self._compiled[shape] = compile_statement(build())
        return found
