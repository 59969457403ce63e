"""Server-side sessions: the check every authenticated request passes, and their revocation.

An access token is only a claim about a session. Each bearer request (API and mobile) and
each board request looks its session up: one primary-key probe joined to the user and the
device, no ORM objects, no cache. Revoking a device, deactivating a user, logging out or
detecting refresh-token reuse marks the session revoked and the next request, in any process,
is refused. Roles must still match the user row; territories come from the token and follow a
change at the next refresh (at most the access-token lifetime).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import ColumnElement, Uuid, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from service.common.actor import Actor
from service.db.driver import first_fetchval
from service.db.engine import behind_pgbouncer
from service.db.models import AuthSession

# The one statement of the check, positional ($1 session, $2 user, $3 role, $4 device).
LIVE_SESSION_SQL = """
SELECT 1
FROM auth_sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN devices d ON d.id = s.device_id
WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
  AND u.is_active AND u.role = $3
  AND s.device_id IS NOT DISTINCT FROM $4::uuid
  AND (d.id IS NULL OR d.revoked_at IS NULL)
"""
_LIVE_SESSION = text(
    LIVE_SESSION_SQL.replace("$1", ":sid")
    .replace("$2", ":sub")
    .replace("$3", ":role")
    .replace("$4::uuid", ":dev")
).bindparams(
    bindparam("sid", type_=Uuid()), bindparam("sub", type_=Uuid()), bindparam("dev", type_=Uuid())
)


async def session_is_live(db: AsyncConnection | AsyncSession, actor: Actor) -> bool:
    """Whether the actor's session, user and device still allow access."""
    if actor.session is None:
        # Every token we issue names its session; one without is forged or pre-dates sessions.
        return False
    params = {
        "sid": actor.session,
        "sub": actor.user_id,
        "role": actor.role.value,
        "dev": actor.device,
    }
    return (await db.execute(_LIVE_SESSION, params)).first() is not None


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection whose statements commit alone (no BEGIN/ROLLBACK round trips).

    Behind PgBouncer the block is one transaction instead (see ``behind_pgbouncer``); callers
    run one statement in it.
    """
    if behind_pgbouncer(engine):
        async with engine.begin() as connection:
            yield connection
        return
    async with engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


async def request_session_is_live(session: AsyncSession, actor: Actor) -> bool:
    """The check of a bearer request, as the first statement of the request's own session.

    Sent straight to the session's asyncpg connection (``service.db.driver``). Pooled
    connections are not pinged before use: when the server has closed this one (a restart, a
    failover, an idle timeout, pg_terminate_backend), the pool drops it and the check runs
    again on a fresh connection. Nothing ran before it, so the retry is safe.
    """
    if actor.session is None:
        return False
    found = await first_fetchval(
        session,
        LIVE_SESSION_SQL,
        actor.session,
        actor.user_id,
        actor.role.value,
        actor.device,
    )
    return found is not None


async def start_session(
    db: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID, device: uuid.UUID | None
) -> None:
    """Record a new login (the refresh family's id)."""
    db.add(AuthSession(id=session_id, user_id=user_id, device_id=device))
    await db.flush()


async def revoke_sessions(db: AsyncSession, condition: ColumnElement[bool], now: datetime) -> None:
    """End the matching sessions: their access tokens are refused from the next request."""
    await db.execute(
        update(AuthSession)
        .where(condition, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
