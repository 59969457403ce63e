"""Login protection shared by every process: counters live in PostgreSQL.

Two defences, each an atomic upsert on its own autocommit connection (a refused or failed
login answers 4xx and rolls its request back, but its count must stay):

* per client address and surface (login, refresh, board login, signing OTP), a fixed window
  of ``login_rate_per_minute`` requests; a surface's attempts never use up another's;
* per account (the typed username, whether it exists or not, so answers reveal nothing),
  exponential back-off: ``login_free_failures`` free failures, then 1 s, 2 s, 4 s... up to
  ``login_backoff_max_seconds``. An attempt is counted before its password is checked, so a
  burst of parallel guesses cannot slip through together; a success deletes the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from litestar.di import NamedDependency
from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.auth.sessions import autocommit
from service.db.base import utcnow
from service.db.models import LoginFailure, LoginRateWindow
from service.errors import TooManyRequests
from service.settings import AuthSettings

Surface = Literal["login", "refresh", "board_login", "otp", "appeal"]

RATE_WINDOW = timedelta(minutes=1)
# The public appeal form is counted per hour: its limit is a handful, not a login's per minute.
APPEAL_WINDOW = timedelta(hours=1)
# A username's failures are forgotten after a day without attempts.
FAILURE_MEMORY = timedelta(hours=24)


def surface_of(method: str, path: str) -> Surface | None:
    """Which protected surface a request is (None: not rate limited here)."""
    if method != "POST":
        return None
    if path == "/api/v1/auth/login":
        return "login"
    if path == "/api/v1/auth/refresh":
        return "refresh"
    if path in ("/staff/login", "/board/login"):
        return "board_login"
    if path.startswith("/mobile/v1/sign/") and path.endswith("/otp"):
        return "otp"
    # The customers' public appeal form: an anonymous flood is refused before it is read.
    if path in ("/appeal", "/appeal/"):
        return "appeal"
    return None


def limit_of(surface: Surface, settings: AuthSettings) -> tuple[int, timedelta]:
    """How many requests an address may send to a surface, and in what window."""
    if surface == "appeal":
        return settings.appeal_rate_per_hour, APPEAL_WINDOW
    return settings.login_rate_per_minute, RATE_WINDOW


def window_start(now: datetime, window: timedelta = RATE_WINDOW) -> datetime:
    """Start of the fixed window ``now`` falls in (UTC, aligned to the epoch)."""
    seconds = window.total_seconds()
    return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, UTC)


def backoff_seconds(failures: int, settings: AuthSettings) -> float:
    """How long an account waits after ``failures`` consecutive failures (0: not at all)."""
    if failures < settings.login_free_failures:
        return 0.0
    doublings = min(failures - settings.login_free_failures, 30)
    return float(
        min(settings.login_backoff_max_seconds, settings.login_backoff_base_seconds * 2**doublings)
    )


def whole_seconds(delay: float) -> int:
    """A Retry-After value: whole seconds, never 0 for a refusal."""
    return max(1, math.ceil(delay))


def account_key(username: str) -> str:
    """The back-off key of a typed username (normalised as logins look users up)."""
    return username.strip().lower()[:64]


# Counts one attempt unless the account is waiting out its back-off; returns no row then.
_CLAIM_ATTEMPT = text(
    """
    INSERT INTO login_failures AS f (account, failures, last_attempt_at)
    VALUES (:account, 1, :now)
    ON CONFLICT (account) DO UPDATE SET
        failures = CASE WHEN f.last_attempt_at < :forget_before THEN 1 ELSE f.failures + 1 END,
        last_attempt_at = :now
    WHERE f.last_attempt_at < :forget_before
       OR f.failures < :free
       OR f.last_attempt_at + make_interval(
              secs => LEAST(:cap, :base * power(2, LEAST(f.failures - :free, 30)))
          ) <= :now
    RETURNING failures
    """
)

# A later window restarts the count; a process whose clock lags adds to the current one.
_HIT_WINDOW = text(
    """
    INSERT INTO login_rate_windows AS w (bucket, window_start, hits)
    VALUES (:bucket, :start, 1)
    ON CONFLICT (bucket) DO UPDATE SET
        hits = CASE WHEN EXCLUDED.window_start > w.window_start THEN 1 ELSE w.hits + 1 END,
        window_start = GREATEST(w.window_start, EXCLUDED.window_start)
    RETURNING hits, window_start
    """
)


@dataclass(frozen=True)
class LoginThrottle:
    """The shared counters; one per process, built on the process's engine."""

    engine: AsyncEngine
    settings: AuthSettings

    async def hit(self, surface: Surface, client: str, now: datetime | None = None) -> int | None:
        """Count a request of a client to a surface; seconds to wait when over the limit."""
        now = now or utcnow()
        limit, window = limit_of(surface, self.settings)
        bucket = f"{surface}|{client}"[:200]
        async with autocommit(self.engine) as connection:
            row = (
                await connection.execute(
                    _HIT_WINDOW, {"bucket": bucket, "start": window_start(now, window)}
                )
            ).one()
        hits, started = int(row[0]), row[1]
        if hits <= limit:
            return None
        return whole_seconds((started + window - now).total_seconds())

    async def claim_attempt(self, username: str, now: datetime | None = None) -> None:
        """Count a login attempt of an account, or raise 429 while it must wait."""
        now = now or utcnow()
        account = account_key(username)
        params = {
            "account": account,
            "now": now,
            "forget_before": now - FAILURE_MEMORY,
            "free": self.settings.login_free_failures,
            "base": self.settings.login_backoff_base_seconds,
            "cap": self.settings.login_backoff_max_seconds,
        }
        async with autocommit(self.engine) as connection:
            claimed = (await connection.execute(_CLAIM_ATTEMPT, params)).first()
            if claimed is not None:
                return
            row = (
                await connection.execute(
                    select(LoginFailure.failures, LoginFailure.last_attempt_at).where(
                        LoginFailure.account == account
                    )
                )
            ).one()
        wait = (
            backoff_seconds(row.failures, self.settings)
            - (now - row.last_attempt_at).total_seconds()
        )
        raise TooManyRequests(
            "Too many failed logins for this account; try again later",
            retry_after=whole_seconds(wait),
        )

    async def succeeded(self, username: str) -> None:
        """A correct password: the account's failures are forgotten."""
        async with autocommit(self.engine) as connection:
            await connection.execute(
                delete(LoginFailure).where(LoginFailure.account == account_key(username))
            )


async def purge_login_counters(session: AsyncSession, now: datetime | None = None) -> int:
    """Drop windows long past and failures forgotten (the periodic job)."""
    now = now or utcnow()
    windows = await session.execute(
        # Each bucket past its own window: an appeal hour must outlive a login minute's purge.
        delete(LoginRateWindow).where(
            or_(
                and_(
                    LoginRateWindow.bucket.startswith("appeal|"),
                    LoginRateWindow.window_start < now - 2 * APPEAL_WINDOW,
                ),
                and_(
                    ~LoginRateWindow.bucket.startswith("appeal|"),
                    LoginRateWindow.window_start < now - 2 * RATE_WINDOW,
                ),
            )
        )
    )
    failures = await session.execute(
        delete(LoginFailure).where(LoginFailure.last_attempt_at < now - FAILURE_MEMORY)
    )
    return int(getattr(windows, "rowcount", 0) or 0) + int(getattr(failures, "rowcount", 0) or 0)


# How controllers ask for the process's throttle (``login_throttle`` dependency).
LoginThrottleDep = NamedDependency[LoginThrottle]
