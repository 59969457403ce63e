"""Login, refresh rotation, reuse detection, disabled accounts, rate limiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import update

from service.auth.services import REUSE_GRACE
from service.auth.tokens import refresh_token_hash
from service.common.actor import Role
from service.db.models import RefreshToken
from service.settings import Settings
from tests.conftest import problem
from tests.integration.builders import PASSWORD, Builder

pytestmark = pytest.mark.asyncio


async def _login(client: Any, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )


async def test_login_issues_scoped_access_token(
    client: Any, build: Builder, settings: Settings
) -> None:
    area = await build.area()
    tech = await build.person(Role.TECHNICIAN, area.territory)
    response = await _login(client, tech.user.username, device_id="phone-1", app_version="1.4.0")
    assert response.status_code == 200, response.text
    pair = response.json()
    claims = jwt.decode(
        pair["access_token"], settings.auth.jwt_secret, algorithms=["HS256"], issuer="naryad"
    )
    assert claims["sub"] == str(tech.user.id)
    assert claims["role"] == "technician"
    assert claims["tech"] == str(tech.actor.technician_id)
    assert claims["terr"] == [str(area.territory.id)]
    assert claims["exp"] - claims["iat"] == settings.auth.access_ttl_seconds
    me = await client.get(
        "/api/v1/work-orders", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert me.status_code == 200


async def test_wrong_password_and_unknown_user_look_the_same(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    wrong = await _login(client, dispatcher.user.username, "not-the-password")
    unknown = await _login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert problem(wrong)["detail"] == problem(unknown)["detail"]


async def test_disabled_account_cannot_log_in(client: Any, build: Builder) -> None:
    area = await build.area()
    disabled = await build.person(Role.DISPATCHER, area.territory, active=False)
    assert (await _login(client, disabled.user.username)).status_code == 401


async def _rotated_long_ago(build: Builder, refresh_token: str) -> None:
    """Move a used token's rotation back past the grace period for concurrent requests."""
    async with build.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == refresh_token_hash(refresh_token))
            .values(used_at=RefreshToken.used_at - REUSE_GRACE - timedelta(seconds=1))
        )
        await session.commit()


async def test_reuse_right_after_rotation_is_refused_without_revoking(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    person = await build.person(Role.COORDINATOR, area.territory)
    first = (await _login(client, person.user.username)).json()
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text

    # A second request that was in flight with the same token: it lost the race, not theft.
    late = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert late.status_code == 401
    assert late.headers["content-type"].startswith("application/problem+json")
    assert "just rotated" in problem(late)["detail"]
    live = await build.count(
        RefreshToken, RefreshToken.user_id == person.user.id, RefreshToken.revoked_at.is_(None)
    )
    assert live == 2
    # The winner's token still works.
    ok = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert ok.status_code == 200, ok.text


async def test_reuse_after_the_grace_period_revokes_the_family(client: Any, build: Builder) -> None:
    area = await build.area()
    person = await build.person(Role.COORDINATOR, area.territory)
    first = (await _login(client, person.user.username)).json()
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    await _rotated_long_ago(build, first["refresh_token"])

    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert "reuse" in problem(reused)["detail"]
    live = await build.count(
        RefreshToken, RefreshToken.user_id == person.user.id, RefreshToken.revoked_at.is_(None)
    )
    assert live == 0
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert after.status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(client: Any, build: Builder) -> None:
    area = await build.area()
    person = await build.person(Role.COORDINATOR, area.territory)
    first = (await _login(client, person.user.username)).json()

    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    # The old token comes back (stolen copy): refused, and the whole family is revoked.
    await _rotated_long_ago(build, first["refresh_token"])
    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert "reuse" in problem(reused)["detail"]
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401
    assert "revoked" in problem(after)["detail"]

    # A separate login is a separate family and still works.
    fresh = (await _login(client, person.user.username)).json()
    ok = await client.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert ok.status_code == 200


async def test_expired_and_unknown_refresh_tokens(client: Any, build: Builder) -> None:
    area = await build.area()
    person = await build.person(Role.SUPERVISOR, area.territory)
    pair = (await _login(client, person.user.username)).json()
    async with build.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == person.user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    expired = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert expired.status_code == 401
    assert "expired" in problem(expired)["detail"]
    unknown = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert unknown.status_code == 401


async def test_expired_access_token_is_refused(
    client: Any, build: Builder, settings: Settings
) -> None:
    area = await build.area()
    person = await build.person(Role.DISPATCHER, area.territory)
    claims = jwt.decode(
        person.token, settings.auth.jwt_secret, algorithms=["HS256"], issuer="naryad"
    )
    claims["exp"] = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    stale = jwt.encode(claims, settings.auth.jwt_secret, algorithm="HS256")
    response = await client.get("/api/v1/work-orders", headers={"Authorization": f"Bearer {stale}"})
    assert response.status_code == 401
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-" * 4, algorithm="HS256")
    response = await client.get(
        "/api/v1/work-orders", headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401


async def test_bad_login_bodies(client: Any) -> None:
    for body in (
        {},
        {"username": "a"},
        {"username": "a", "password": "b", "role": "admin"},
        {"username": 1, "password": "b"},
    ):
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 400
        assert problem(response)["errors"]
