"""Login and refresh-token rotation with reuse detection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.auth.passwords import verify_password
from service.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from service.auth.sessions import revoke_sessions, start_session
from service.auth.throttle import LoginThrottle
from service.auth.tokens import issue_access_token, new_refresh_token, refresh_token_hash
from service.common.actor import Actor, Role
from service.db.base import utcnow
from service.db.models import AuthSession, Device, RefreshToken, Technician, User
from service.errors import Unauthorized
from service.settings import AuthSettings

# Two requests in flight when the access token expires (a board page and its self-refresh,
# two tabs) present the same refresh token; the one that loses the race is no stolen copy,
# and its client gets the winner's new tokens. Within this time after rotation the old token
# is refused without revoking the family; later, reuse still ends the whole family.
REUSE_GRACE = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class RefreshRejected:
    """A refresh that must answer 401; any revocation it caused must still be committed.

    ``superseded``: the token was rotated a moment ago by a concurrent request, nothing was
    revoked and the client's newer tokens still work.
    """

    reason: str
    superseded: bool = False


class AuthService:
    """Issues and rotates tokens."""

    def __init__(
        self, session: AsyncSession, settings: AuthSettings, throttle: LoginThrottle | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        # Per-account back-off of password checks; None for callers that only rotate or revoke.
        self.throttle = throttle

    async def login(self, request: LoginRequest) -> TokenPair:
        """Check credentials and start a new session (token family).

        With a throttle, an account waiting out its back-off gets 429 before its password
        is even checked, so a right guess then is no different from a wrong one.
        """
        if self.throttle is not None:
            await self.throttle.claim_attempt(request.username)
        user = await self.session.scalar(
            select(User)
            .where(User.username == request.username.strip().lower())
            .options(selectinload(User.territories))
        )
        if not verify_password(user.password_hash if user else None, request.password):
            raise Unauthorized("Wrong username or password")
        assert user is not None
        if self.throttle is not None:
            await self.throttle.succeeded(request.username)
        if not user.is_active:
            raise Unauthorized("This account is disabled")
        actor = await self.actor_for(user)
        if request.device_id is not None:
            device = await self.register_device(user.id, request.device_id, request.app_version)
            actor = replace(actor, device=device.id)
        family_id = uuid.uuid4()
        await start_session(self.session, family_id, user.id, actor.device)
        return await self._issue(
            replace(actor, session=family_id),
            family_id=family_id,
            device_id=request.device_id,
            app_version=request.app_version,
        )

    async def refresh(self, request: RefreshRequest) -> TokenPair | RefreshRejected:
        """Rotate a refresh token; presenting a used one revokes its whole family.

        Within ``REUSE_GRACE`` of its rotation a used token is only refused (a concurrent
        request's race, not theft).
        """
        now = utcnow()
        stored = await self.session.scalar(
            select(RefreshToken)
            .where(RefreshToken.token_hash == refresh_token_hash(request.refresh_token))
            .with_for_update()
        )
        if stored is None:
            return RefreshRejected("Unknown refresh token")
        if stored.revoked_at is not None:
            return RefreshRejected("This session has been revoked")
        if stored.used_at is not None:
            if now - stored.used_at < REUSE_GRACE:
                return RefreshRejected(
                    "This refresh token was just rotated; use the new one", superseded=True
                )
            # A used token coming back means it was copied: end every session of this login.
            await self.revoke_family(stored.family_id, now)
            return RefreshRejected("Refresh token reuse detected; the session has been revoked")
        if stored.expires_at <= now:
            return RefreshRejected("Refresh token expired")
        live = await self.session.scalar(
            select(AuthSession.id).where(
                AuthSession.id == stored.family_id, AuthSession.revoked_at.is_(None)
            )
        )
        if live is None:
            # The session row is the truth (an operator may revoke it alone).
            await self.revoke_family(stored.family_id, now)
            return RefreshRejected("This session has been revoked")
        user = await self.session.scalar(
            select(User).where(User.id == stored.user_id).options(selectinload(User.territories))
        )
        if user is None or not user.is_active:
            await self.revoke_family(stored.family_id, now)
            return RefreshRejected("This account is disabled")
        stored.used_at = now
        actor = await self.actor_for(user)
        if stored.device_id is not None:
            device = await self.session.scalar(
                select(Device).where(
                    Device.user_id == user.id, Device.device_id == stored.device_id
                )
            )
            if device is None or device.revoked_at is not None:
                await self.revoke_family(stored.family_id, now)
                return RefreshRejected("This device has been revoked")
            actor = replace(actor, device=device.id)
        return await self._issue(
            replace(actor, session=stored.family_id),
            family_id=stored.family_id,
            device_id=stored.device_id,
            app_version=stored.app_version,
        )

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        """Revoke every token of one login; its access tokens stop working at once."""
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await revoke_sessions(self.session, AuthSession.id == family_id, now)

    async def revoke_user(self, user_id: uuid.UUID) -> None:
        """Revoke every session of a user (deactivation), on every surface."""
        now = utcnow()
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await revoke_sessions(self.session, AuthSession.user_id == user_id, now)

    async def register_device(
        self, user_id: uuid.UUID, device_id: str, app_version: str | None
    ) -> Device:
        """Record the phone a session is bound to; a revoked one cannot log in again."""
        device = await self.session.scalar(
            select(Device).where(Device.user_id == user_id, Device.device_id == device_id)
        )
        if device is None:
            device = Device(user_id=user_id, device_id=device_id, app_version=app_version)
            self.session.add(device)
        elif device.revoked_at is not None:
            raise Unauthorized("This device has been revoked; ask your supervisor")
        else:
            device.app_version = app_version
            device.last_seen_at = utcnow()
        await self.session.flush()
        return device

    async def actor_for(self, user: User) -> Actor:
        """The actor a user acts as: technicians get their technician id and territories."""
        role = Role(user.role)
        territory_ids = frozenset(t.id for t in user.territories)
        technician_id = None
        if role is Role.TECHNICIAN:
            technician = await self.session.scalar(
                select(Technician)
                .where(Technician.user_id == user.id)
                .options(selectinload(Technician.territories))
            )
            if technician is None or not technician.active:
                raise Unauthorized("This technician account is not active")
            technician_id = technician.id
            territory_ids = frozenset(t.id for t in technician.territories)
        return Actor(
            user_id=user.id, role=role, territory_ids=territory_ids, technician_id=technician_id
        )

    async def _issue(
        self,
        actor: Actor,
        *,
        family_id: uuid.UUID,
        device_id: str | None,
        app_version: str | None,
    ) -> TokenPair:
        now = utcnow()
        token, token_hash = new_refresh_token()
        self.session.add(
            RefreshToken(
                user_id=actor.user_id,
                family_id=family_id,
                token_hash=token_hash,
                issued_at=now,
                expires_at=now + timedelta(seconds=self.settings.refresh_ttl_seconds),
                device_id=device_id,
                app_version=app_version,
            )
        )
        await self.session.flush()
        return TokenPair(
            access_token=issue_access_token(actor, self.settings, now),
            refresh_token=token,
            expires_in=self.settings.access_ttl_seconds,
            role=actor.role.value,
        )
