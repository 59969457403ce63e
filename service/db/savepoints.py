"""One savepoint name for every savepoint, so they do not crowd out the statement cache.

SQLAlchemy numbers its savepoints (``sa_savepoint_1``, ``_2``, ...) per connection, and asyncpg
prepares and caches each distinct statement text: a batch with a savepoint per operation filled
the cache with one-use SAVEPOINT/RELEASE statements and evicted the useful ones. PostgreSQL
allows a name to be reused: RELEASE and ROLLBACK TO act on the newest savepoint of that name,
which is the one SQLAlchemy means, as it always ends savepoints innermost first.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

SAVEPOINT_NAME = "sa_savepoint"
_NUMBERED = re.compile(r"\bsa_savepoint_\d+\b")
_SAVEPOINT_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def _one_name(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    if statement.startswith(_SAVEPOINT_STATEMENTS):
        statement = _NUMBERED.sub(SAVEPOINT_NAME, statement)
    return statement, parameters


def use_one_savepoint_name(engine: AsyncEngine) -> None:
    """Rewrite the engine's numbered savepoint names to one fixed name."""
    event.listen(engine.sync_engine, "before_cursor_execute", _one_name, retval=True)
