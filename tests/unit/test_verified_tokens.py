"""Verified access tokens are kept by their string until their exp, and only verified ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from litestar.exceptions import NotAuthorizedException

from service.auth.token_lifetime import VerifiedTokens, bounded_token_class
from service.auth.tokens import ALGORITHM, issue_access_token
from service.common.actor import Actor, Role
from service.settings import load_settings


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_kept_token_is_answered_until_its_expiry_and_then_forgotten() -> None:
    clock = Clock(1000.0)
    tokens: VerifiedTokens[str] = VerifiedTokens(clock=clock)
    tokens.put("a", "token a", expires_at=1010.0)
    assert tokens.get("a") == "token a"
    clock.now = 1009.999
    assert tokens.get("a") == "token a"
    clock.now = 1010.0  # the full verification refuses exp <= now from here on
    assert tokens.get("a") is None
    assert len(tokens) == 0
    assert tokens.get("never kept") is None


def test_the_store_is_bounded_and_drops_the_oldest_first() -> None:
    tokens: VerifiedTokens[int] = VerifiedTokens(capacity=3, clock=lambda: 0.0)
    for n in range(5):
        tokens.put(f"t{n}", n, expires_at=100.0)
    assert len(tokens) == 3
    assert [tokens.get(f"t{n}") for n in range(5)] == [None, None, 2, 3, 4]
    tokens.put("t4", 44, expires_at=100.0)  # the same key again takes no second place
    assert len(tokens) == 3
    assert tokens.get("t4") == 44


def _decode(cls: type, token: str, secret: str, issuer: str) -> object:
    return cls.decode(  # type: ignore[attr-defined, no-any-return]
        encoded_token=token,
        secret=secret,
        algorithm=ALGORITHM,
        issuer=[issuer],
        require_claims=["iat"],
    )


def _actor() -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        role=Role.DISPATCHER,
        territory_ids=frozenset({uuid.uuid4()}),
        session=uuid.uuid4(),
    )


def test_the_token_class_verifies_once_per_token_string_and_honours_exp() -> None:
    auth = load_settings({}).auth
    cls = bounded_token_class(auth)
    token = issue_access_token(_actor(), auth, datetime.now(UTC))
    first = _decode(cls, token, auth.jwt_secret, auth.issuer)
    assert _decode(cls, token, auth.jwt_secret, auth.issuer) is first  # kept, not re-verified
    # Past its exp the kept token is not answered: the full verification runs again.
    store = cls.verified  # type: ignore[attr-defined]
    store.clock = Clock(first.exp.timestamp())  # type: ignore[attr-defined]
    again = _decode(cls, token, auth.jwt_secret, auth.issuer)
    assert again is not first
    assert again.sub == first.sub  # type: ignore[attr-defined]
    # Another secret (another verification) never meets the kept token.
    with pytest.raises(NotAuthorizedException):
        _decode(cls, token, "another-secret-of-at-least-32-bytes!!", auth.issuer)


def test_refused_tokens_are_never_kept() -> None:
    auth = load_settings({}).auth
    cls = bounded_token_class(auth)
    valid = issue_access_token(_actor(), auth, datetime.now(UTC))
    head, body, signature = valid.split(".")
    forged = f"{head}.{body}.{signature[:-4]}AAAA"
    expired = issue_access_token(
        _actor(), auth, datetime.now(UTC) - timedelta(seconds=auth.access_ttl_seconds + 5)
    )
    for refused in (forged, expired, "not.a.token"):
        for _ in range(2):
            with pytest.raises(NotAuthorizedException):
                _decode(cls, refused, auth.jwt_secret, auth.issuer)
    assert len(cls.verified) == 0  # type: ignore[attr-defined]


def test_each_app_has_its_own_store() -> None:
    auth = load_settings({}).auth
    first, second = bounded_token_class(auth), bounded_token_class(auth)
    token = issue_access_token(_actor(), auth, datetime.now(UTC))
    _decode(first, token, auth.jwt_secret, auth.issuer)
    assert len(first.verified) == 1  # type: ignore[attr-defined]
    assert len(second.verified) == 0  # type: ignore[attr-defined]


def test_the_store_answers_for_its_first_verification_only() -> None:
    tokens: VerifiedTokens[str] = VerifiedTokens()
    assert tokens.answers_for(("secret", "HS256"))
    assert tokens.answers_for(("secret", "HS256"))
    assert not tokens.answers_for(("another secret", "HS256"))


def test_another_verification_is_neither_answered_nor_kept() -> None:
    auth = load_settings({}).auth
    cls = bounded_token_class(auth)
    token = issue_access_token(_actor(), auth, datetime.now(UTC))
    _decode(cls, token, auth.jwt_secret, auth.issuer)
    other = issue_access_token(_actor(), auth, datetime.now(UTC))
    # Verified with a wider issuer list: accepted by the full verification, never kept.
    decoded = cls.decode(
        encoded_token=other,
        secret=auth.jwt_secret,
        algorithm=ALGORITHM,
        issuer=[auth.issuer, "elsewhere"],
        require_claims=["iat"],
    )
    assert decoded.exp > datetime.now(UTC)
    assert len(cls.verified) == 1  # type: ignore[attr-defined]
