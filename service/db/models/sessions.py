"""Login sessions (one per refresh-token family) and the shared login-protection counters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow


class AuthSession(Base):
    """One login: every access token carries its id (``sid``) and is checked against it.

    The id is the refresh-token family id, so rotating tokens keeps the session and revoking
    the family (logout, reuse, device revocation, deactivation) ends it on every surface.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (
        Index("ix_auth_sessions_user", "user_id"),
        Index("ix_auth_sessions_device", "device_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The registered phone (devices.id) a mobile login is bound to.
    device_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=text("now()")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginRateWindow(Base):
    """Requests of one client address to one auth surface in the current fixed window."""

    __tablename__ = "login_rate_windows"
    __table_args__ = (Index("ix_login_rate_windows_start", "window_start"),)

    # "<surface>|<client address>"
    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hits: Mapped[int] = mapped_column(Integer)


class LoginFailure(Base):
    """Consecutive failed logins of one username (known or not), for exponential back-off."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_last", "last_attempt_at"),)

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
