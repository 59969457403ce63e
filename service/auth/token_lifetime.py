"""Access tokens live no longer than the configured TTL, whatever their `exp` says.

A token signed with the right key but a far `exp` (a leaked key, a hand-made token, a
misconfigured issuer) is refused: `exp - iat` may exceed the access TTL only by the leeway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from litestar.exceptions import ImproperlyConfiguredException
from litestar.security.jwt import Token

from service.settings import AuthSettings

# Clock steps and rounding to whole seconds between issuing and checking.
LIFETIME_LEEWAY_SECONDS = 60


def lifetime_is_allowed(issued_at: float, expires_at: float, settings: AuthSettings) -> bool:
    """Whether a token issued and expiring at these epoch seconds fits the access TTL."""
    lifetime = expires_at - issued_at
    return 0 < lifetime <= settings.access_ttl_seconds + LIFETIME_LEEWAY_SECONDS


def claims_lifetime_is_allowed(claims: dict[str, Any], settings: AuthSettings) -> bool:
    """The same rule for decoded claims; a token without `iat` or `exp` is refused."""
    issued_at, expires_at = claims.get("iat"), claims.get("exp")
    if not isinstance(issued_at, int | float) or not isinstance(expires_at, int | float):
        return False
    return lifetime_is_allowed(issued_at, expires_at, settings)


def bounded_token_class(settings: AuthSettings) -> type[Token]:
    """A Token class for JWTAuth that refuses lifetimes beyond the access TTL."""

    @dataclass
    class BoundedToken(Token):
        auth_settings: ClassVar[AuthSettings] = settings

        def __post_init__(self) -> None:
            super().__post_init__()
            if not isinstance(self.exp, datetime) or not isinstance(self.iat, datetime):
                raise ImproperlyConfiguredException("exp and iat must be times")
            if not lifetime_is_allowed(
                self.iat.timestamp(), self.exp.timestamp(), self.auth_settings
            ):
                # Litestar's decoder turns this into 401 "Invalid token".
                raise ImproperlyConfiguredException("token lifetime exceeds the access TTL")

    return BoundedToken
