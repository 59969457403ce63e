"""The staff pages' cookie session: the auth service's tokens kept in HttpOnly cookies.

One session serves every staff page (``/board``, ``/dispatch``, the shared ``/staff/login``).
A browser page cannot hold a bearer token safely, so the access token (JWT) and the rotating
refresh token live in HttpOnly, SameSite=Strict cookies on path ``/`` (the pages share them).
An expired access token is replaced by rotating the refresh token, so the auth service's
reuse detection covers page sessions too. POST forms carry a CSRF token that is an HMAC of
the user id and a random per-login seed: SameSite=Strict already keeps cross-site posts
cookie-less, and the signature means a planted seed cookie is useless without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from litestar.datastructures import Cookie
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from service.auth.services import AuthService, RefreshRejected
from service.auth.sessions import session_is_live
from service.auth.throttle import LoginThrottle
from service.auth.token_lifetime import claims_lifetime_is_allowed
from service.auth.tokens import ALGORITHM, refresh_token_hash
from service.common.actor import Actor, Role
from service.db.models import RefreshToken
from service.errors import Forbidden
from service.settings import AuthSettings

COOKIE_PATH = "/"
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN})
ACCESS_COOKIE = "staff_access"
REFRESH_COOKIE = "staff_refresh"
SEED_COOKIE = "staff_seed"
LOGIN_COOKIE = "staff_login"
LANGUAGE_COOKIE = "staff_lang"
LANGUAGE_MAX_AGE = 365 * 24 * 3600
LOGIN_FORM_MAX_AGE = 3600
# The seed outlives the tokens by this much: a browser still holding it when the tokens are
# gone had a session that ended on its own, and the sign-in says so. It proves nothing alone
# (it only seeds the CSRF token of a live session).
SEED_AFTERLIFE = 30 * 24 * 3600
SESSION_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE, SEED_COOKIE)


@dataclass(frozen=True, slots=True)
class StaffLogin:
    """A new staff session: tokens, the CSRF seed and who logged in."""

    tokens: TokenPair
    seed: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class ResumedSession:
    """The caller of a staff page request; ``rotated`` holds new tokens to set as cookies."""

    actor: Actor
    seed: str
    rotated: TokenPair | None = None


@dataclass(frozen=True, slots=True)
class Superseded:
    """A concurrent request rotated this session's refresh token a moment ago.

    Its response sets the new cookies; this one must leave the browser's cookies alone.
    """


def _sign(secret: str, purpose: str, *parts: str) -> str:
    message = "|".join((purpose, *parts)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_token(settings: AuthSettings, user_id: uuid.UUID, seed: str) -> str:
    """The CSRF token a session's forms carry."""
    return _sign(settings.jwt_secret, "staff-csrf", str(user_id), seed)


def csrf_valid(settings: AuthSettings, session: ResumedSession, presented: str | None) -> bool:
    """Whether a form's token belongs to this session (constant-time comparison)."""
    expected = csrf_token(settings, session.actor.user_id, session.seed)
    return bool(presented) and hmac.compare_digest(expected, presented or "")


def login_form_token(settings: AuthSettings, nonce: str) -> str:
    """The token of the login form, bound to a nonce cookie (no login CSRF)."""
    return _sign(settings.jwt_secret, "staff-login", nonce)


def login_form_valid(settings: AuthSettings, nonce: str | None, presented: str | None) -> bool:
    """Whether the login form was served to this browser."""
    if not nonce or not presented:
        return False
    return hmac.compare_digest(login_form_token(settings, nonce), presented)


def new_nonce() -> str:
    """A random value for a seed or a login form cookie."""
    return secrets.token_urlsafe(24)


def _cookie(key: str, value: str, max_age: int, secure: bool) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path=COOKIE_PATH,
        max_age=max_age,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def session_cookies(
    tokens: TokenPair, seed: str, settings: AuthSettings, *, secure: bool
) -> list[Cookie]:
    """Cookies holding a session; they live as long as the refresh token does."""
    max_age = settings.refresh_ttl_seconds
    return [
        _cookie(ACCESS_COOKIE, tokens.access_token, max_age, secure),
        _cookie(REFRESH_COOKIE, tokens.refresh_token, max_age, secure),
        _cookie(SEED_COOKIE, seed, max_age + SEED_AFTERLIFE, secure),
    ]


def cleared_cookies(*, secure: bool) -> list[Cookie]:
    """Cookies that end a session in the browser."""
    return [expired_cookie(key, secure=secure) for key in (*SESSION_COOKIES, LOGIN_COOKIE)]


def language_cookie(language: str, *, secure: bool) -> Cookie:
    """The chosen page language."""
    return _cookie(LANGUAGE_COOKIE, language, LANGUAGE_MAX_AGE, secure)


def login_cookie(nonce: str, *, secure: bool) -> Cookie:
    """The nonce the login form's token is bound to."""
    return _cookie(LOGIN_COOKIE, nonce, LOGIN_FORM_MAX_AGE, secure)


def expired_cookie(key: str, *, secure: bool) -> Cookie:
    """A cookie the browser drops at once."""
    return _cookie(key, "", 0, secure)


class StaffSessionService:
    """Starts, resumes and ends staff page sessions on top of the auth service."""

    def __init__(
        self, session: AsyncSession, settings: AuthSettings, throttle: LoginThrottle | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.auth = AuthService(session, settings, throttle)

    async def login(self, username: str, password: str) -> StaffLogin:
        """Check credentials; only staff roles get a session (others write nothing)."""
        # A savepoint: a refused role must not leave an issued refresh token behind.
        async with self.session.begin_nested():
            tokens = await self.auth.login(LoginRequest(username=username, password=password))
            actor = self._actor(tokens.access_token)
            if actor is None:
                raise Forbidden(
                    "Staff pages are for dispatchers, coordinators, supervisors, admins"
                )
        return StaffLogin(tokens=tokens, seed=new_nonce(), actor=actor)

    async def resume(
        self, access: str | None, refresh: str | None, seed: str | None
    ) -> ResumedSession | Superseded | None:
        """The session's caller, rotating the refresh token when the access token has expired.

        None means logged out; a revocation the refresh caused (token reuse) is flushed and
        must be committed with the response. ``Superseded``: another request of this browser
        has just rotated the token, so the request is to be retried with its cookies.
        """
        if not seed:
            return None
        actor = self._actor(access) if access else None
        # The server's session decides, not the cookie: a revoked device, a deactivated user
        # or a logout elsewhere ends this one too (the refresh below is then refused as well).
        if actor is not None and await session_is_live(self.session, actor):
            return ResumedSession(actor=actor, seed=seed)
        if not refresh:
            return None
        rotated = await self.auth.refresh(RefreshRequest(refresh_token=refresh))
        if isinstance(rotated, RefreshRejected):
            return Superseded() if rotated.superseded else None
        actor = self._actor(rotated.access_token)
        if actor is None:
            # The role changed since login: this session may no longer open staff pages.
            await self._revoke(rotated.refresh_token)
            return None
        return ResumedSession(actor=actor, seed=seed, rotated=rotated)

    async def logout(self, refresh: str | None) -> None:
        """End the session server-side: its refresh token family is revoked."""
        if refresh:
            await self._revoke(refresh)

    async def _revoke(self, refresh: str) -> None:
        family = await self.session.scalar(
            select(RefreshToken.family_id).where(
                RefreshToken.token_hash == refresh_token_hash(refresh)
            )
        )
        if family is not None:
            await self.auth.revoke_family(family, datetime.now(UTC))

    def _actor(self, access: str) -> Actor | None:
        """The actor of a valid, unexpired access token of a staff role."""
        try:
            claims = jwt.decode(
                access,
                self.settings.jwt_secret,
                algorithms=[ALGORITHM],
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
            if not claims_lifetime_is_allowed(claims, self.settings):
                return None
            actor = Actor.from_claims(claims["sub"], claims)
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        return actor if actor.role in STAFF_ROLES else None
