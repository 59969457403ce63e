"""Access tokens live no longer than the configured TTL, whatever their `exp` says.

A token signed with the right key but a far `exp` (a leaked key, a hand-made token, a
misconfigured issuer) is refused: `exp - iat` may exceed the access TTL only by the leeway.

A phone or a console sends the same access token with every request for its whole lifetime, and
verifying it (HMAC, base64, JSON, claims, the dataclass) was a twentieth of a served read's CPU.
Verified tokens are therefore kept, by their exact string, until their `exp` (``VerifiedTokens``).
Only the pure verification is skipped on a hit: a string that failed is never kept, and whether
the token's session, user and device are still live is asked of the database on every request
as before (``service.auth.sessions``), so revoking still takes effect at the next request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

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


T = TypeVar("T")
# Distinct access tokens alive at once in one process; beyond it the oldest kept goes first.
VERIFIED_TOKENS_KEPT = 4096


class VerifiedTokens(Generic[T]):
    """Tokens already verified, by their string, until they expire.

    A kept token is answered only while ``clock()`` is before its expiry (the moment the full
    verification would refuse it); bounded to ``capacity`` entries, the oldest evicted first.
    """

    def __init__(
        self, capacity: int = VERIFIED_TOKENS_KEPT, clock: Callable[[], float] = time.time
    ) -> None:
        self.capacity = capacity
        self.clock = clock
        self._kept: dict[str, tuple[T, float]] = {}
        self._verification: tuple[Any, ...] | None = None

    def answers_for(self, verification: tuple[Any, ...]) -> bool:
        """Whether the store keeps tokens for this verification (its parameters, secret
        included): the first one it is asked about, once, and no other.

        An app's JWTAuth always verifies with the same parameters, so tokens are kept by their
        string alone rather than with a copy of the parameters in every key.
        """
        if self._verification is None:
            self._verification = verification
        return self._verification == verification

    def get(self, key: str) -> T | None:
        """The token verified under this key, if it has not expired since."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        token, expires_at = kept
        if self.clock() >= expires_at:
            del self._kept[key]
            return None
        return token

    def put(self, key: str, token: T, expires_at: float) -> None:
        """Keep a token the full verification accepted, until ``expires_at`` (epoch seconds)."""
        if key not in self._kept and len(self._kept) >= self.capacity:
            del self._kept[next(iter(self._kept))]
        self._kept[key] = (token, expires_at)

    def __len__(self) -> int:
        return len(self._kept)


def bounded_token_class(settings: AuthSettings) -> type[Token]:
    """A Token class for JWTAuth that refuses lifetimes beyond the access TTL and keeps the
    tokens it verified (see ``VerifiedTokens``); one class, and one store, per app."""

    @dataclass
    class BoundedToken(Token):
        auth_settings: ClassVar[AuthSettings] = settings
        verified: ClassVar[VerifiedTokens[Any]] = VerifiedTokens()

        @classmethod
        def decode(
            cls,
            encoded_token: str,
            secret: str,
            algorithm: str,
            audience: str | Sequence[str] | None = None,
            issuer: str | Sequence[str] | None = None,
            require_claims: Sequence[str] | None = None,
            verify_exp: bool = True,
            verify_nbf: bool = True,
            strict_audience: bool = False,
        ) -> Self:
            """Litestar's full verification, or the token it accepted before for this string."""
            store = cls.verified
            # Without an expiry check there is no moment to forget the token at.
            kept_here = verify_exp and store.answers_for(
                (
                    secret,
                    algorithm,
                    audience if audience is None or isinstance(audience, str) else tuple(audience),
                    issuer if issuer is None or isinstance(issuer, str) else tuple(issuer),
                    tuple(require_claims or ()),
                    verify_nbf,
                    strict_audience,
                )
            )
            if kept_here and (kept := store.get(encoded_token)) is not None:
                return cast(Self, kept)
            token = super().decode(
                encoded_token, secret, algorithm, audience, issuer, require_claims,
                verify_exp, verify_nbf, strict_audience,
            )  # fmt: skip
            if kept_here:
                store.put(encoded_token, token, token.exp.timestamp())
            return token

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
