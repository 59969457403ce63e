"""Lag-tolerant reads on a PostgreSQL hot standby (``NARYAD_READ_DATABASE_URL``).

The coordinators' slow-moving figures (the KPIs, the board's counts per bucket) may be read
from a streaming-replication standby, so that month-long aggregates do not take the primary's
connections and CPU from bookings and sync pushes. Each such read first asks the standby how
far behind it is, in the same read-only snapshot as the figures. Beyond
``NARYAD_READ_MAX_LAG_SECONDS``, or when the standby cannot be reached or cancels the read (a
recovery conflict), the read runs on the primary instead; a warning in the log and
``naryad_standby_reads_total{target="primary"}`` say so. Every answer carries "as of": when the
standby's data was complete, or now on the primary.

Only reads that tolerate that lag belong here: never one whose result is then written, nor one
showing a change the user has just made (the board's rows and escalations read the primary).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

from litestar.datastructures import State
from litestar.di import NamedDependency
from prometheus_client import Counter, Gauge
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.db.base import utcnow
from service.settings import DatabaseSettings

logger = logging.getLogger("naryad.db.standby")
T = TypeVar("T")

Reason = Literal["fresh", "lagging", "unknown", "unavailable"]

READS = Counter(
    "naryad_standby_reads",
    "Lag-tolerant reads (KPIs, board counts) by where they ran and why: standby/fresh, or "
    "primary/lagging, primary/unknown (no replay time), primary/unavailable",
    ["target", "reason"],
)
LAG = Gauge(
    "naryad_standby_lag_seconds",
    "The standby's replay lag at this process's last lag-tolerant read (0: caught up)",
    multiprocess_mode="livemax",
)

# In the read's own snapshot: whether the server replays WAL, whether a WAL receiver runs (its
# pid is visible to every role), whether all WAL received is replayed, its clock, and the
# commit time of the last transaction replayed.
STATE_SQL = text(
    "SELECT pg_is_in_recovery() AS in_recovery,"
    " EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiving,"
    " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() AS caught_up,"
    " now() AS now, pg_last_xact_replay_timestamp() AS replayed_at"
)

# After the standby failed, reads go straight to the primary for this long (a standby behind a
# dead address would cost every request a connect timeout).
RETRY_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0
# SQLSTATEs (or their classes) after which the primary answers instead: the connection failed
# or was refused (08, 28, 3D, 53, 57P), or the standby cancelled the read because replay needed
# what it was reading (40001, 40P01).
_FALLBACK_STATES = ("08", "28", "3D", "53", "57P", "40001", "40P01")


@dataclass(frozen=True, slots=True)
class StandbyState:
    """What the standby says about itself at the start of a read."""

    in_recovery: bool
    receiving: bool
    caught_up: bool
    now: datetime
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a read may use the standby, and its data's time."""

    use_standby: bool
    reason: Reason
    as_of: datetime | None
    lag_seconds: float | None


def decide(state: StandbyState, max_lag_seconds: float) -> Decision:
    """Read the standby only when its data is complete up to at most ``max_lag_seconds`` ago.

    A standby streaming from its primary that has replayed all it received is as of now (an
    idle primary sends nothing, so the last replayed commit may be old). Otherwise its data is
    as of its last replayed commit; with none replayed since it started, the lag is unknown.
    A server not in recovery (promoted, or a read endpoint that takes writes) is as of now.
    Lag is measured on the standby's clock against commit times of the primary's: keep both
    clocks synchronised (NTP).
    """
    if not state.in_recovery or (state.receiving and state.caught_up):
        as_of: datetime | None = state.now
    else:
        as_of = state.replayed_at
    if as_of is None:
        return Decision(False, "unknown", None, None)
    lag = max(0.0, (state.now - as_of).total_seconds())
    if lag > max_lag_seconds:
        return Decision(False, "lagging", as_of, lag)
    return Decision(True, "fresh", as_of, lag)


def standby_failed(error: BaseException) -> bool:
    """Whether an error means "the standby cannot answer now" rather than a fault of the read."""
    if isinstance(error, OSError | TimeoutError | sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        return sqlstate.startswith(_FALLBACK_STATES) or isinstance(error, sa_exc.InterfaceError)
    return False


@dataclass(frozen=True, slots=True)
class Lagged(Generic[T]):
    """A read's result, the time its data was complete, and where it ran."""

    value: T
    as_of: datetime
    source: Literal["primary", "standby"]


class StandbyReads:
    """Runs lag-tolerant reads on the standby when configured and fresh, else on the primary."""

    def __init__(self, engine: AsyncEngine | None, max_lag_seconds: float) -> None:
        self.engine = engine
        self.max_lag_seconds = max_lag_seconds
        self._skip_until = 0.0
        # One snapshot per read: the lag check and the figures see the same replayed state.
        self._sessions = (
            async_sessionmaker(
                engine.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                ),
                expire_on_commit=False,
                autoflush=False,
            )
            if engine is not None
            else None
        )

    async def read(
        self, primary: AsyncSession, work: Callable[[AsyncSession], Awaitable[T]]
    ) -> Lagged[T]:
        """``work`` on the standby's session when it may, else on ``primary`` (as of now)."""
        if self._sessions is not None and time.monotonic() >= self._skip_until:
            try:
                async with self._sessions() as session, session.begin():
                    found = (await session.execute(STATE_SQL)).one()
                    decision = decide(StandbyState(**found._asdict()), self.max_lag_seconds)
                    if decision.lag_seconds is not None:
                        LAG.set(decision.lag_seconds)
                    if decision.use_standby and decision.as_of is not None:
                        value = await work(session)
                        READS.labels("standby", "fresh").inc()
                        return Lagged(value, decision.as_of, "standby")
                logger.warning(
                    "standby read: falling back to the primary (%s, lag %s s, max %s s)",
                    decision.reason,
                    "unknown" if decision.lag_seconds is None else f"{decision.lag_seconds:.1f}",
                    self.max_lag_seconds,
                )
                READS.labels("primary", decision.reason).inc()
            except Exception as error:
                if not standby_failed(error):
                    raise
                self._skip_until = time.monotonic() + RETRY_SECONDS
                logger.warning(
                    "standby read: the standby failed (%s); the primary answers for %.0f s",
                    type(error).__name__,
                    RETRY_SECONDS,
                )
                READS.labels("primary", "unavailable").inc()
        as_of = utcnow()
        return Lagged(await work(primary), as_of, "primary")

    async def dispose(self) -> None:
        """Close the standby's connections."""
        if self.engine is not None:
            await self.engine.dispose()


def make_standby_reads(settings: DatabaseSettings) -> StandbyReads:
    """The process's standby reads: a small pool of its own, or none (everything on the primary).

    Connections go straight to the standby (no PgBouncer), each with a short connect timeout,
    and a pool that is busy longer than that sends the read to the primary.
    """
    if settings.read_url is None:
        return StandbyReads(None, settings.read_max_lag_seconds)
    engine = create_async_engine(
        settings.read_url,
        pool_size=settings.read_pool_size,
        max_overflow=0,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        pool_recycle=settings.pool_recycle_seconds,
        pool_pre_ping=True,  # a restarted standby must not fail the next read
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )
    return StandbyReads(engine, settings.read_max_lag_seconds)


# A handler's parameter: where its lag-tolerant figures are read.
Standby = NamedDependency[StandbyReads]


async def provide_standby(state: State) -> StandbyReads:
    """The app's standby reads (a dependency, like the database session)."""
    reads: StandbyReads = state.standby_reads
    return reads
