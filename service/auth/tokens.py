"""Access tokens (JWT) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import jwt

from service.common.actor import Actor
from service.settings import AuthSettings

ALGORITHM = "HS256"


def issue_access_token(actor: Actor, settings: AuthSettings, now: datetime) -> str:
    """A signed, short-lived JWT carrying the actor's role and scope."""
    claims = {
        "sub": str(actor.user_id),
        "iss": settings.issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
        **actor.to_claims(),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def new_refresh_token() -> tuple[str, str]:
    """A random refresh token and the hash we store (the token itself is never stored)."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    """SHA-256 hex of a refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()
