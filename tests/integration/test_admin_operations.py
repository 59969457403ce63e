"""Admin operations: outbox messages listed, retried, discarded; staff accounts managed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from service.common.actor import Role
from service.db.models import AuditEntry, AuthSession, OutboxMessage, RefreshToken, User
from tests.conftest import problem
from tests.integration.builders import Builder

OTHER_ROLES = (Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR, Role.TECHNICIAN)


async def _message(
    build: Builder, status: str, template: str = "visit.booked", **context: Any
) -> OutboxMessage:
    now = datetime.now(UTC)
    message = OutboxMessage(
        event=template,
        channel="sms",
        recipient_kind="customer",
        recipient_address="+77010000001",
        language="ru",
        template=template,
        context=context or {"window_start": now.isoformat(), "window_end": now.isoformat()},
        time_zone="Asia/Almaty",
        urgent=False,
        not_before=now - timedelta(hours=1),
        next_attempt_at=now + timedelta(hours=5),
        dedup_key=uuid.uuid4().hex,
        status=status,
        attempts=8 if status == "dead" else 1,
        last_error="gateway answered 503" if status == "dead" else None,
    )
    async with build.sessionmaker() as session:
        session.add(message)
        await session.commit()
    return message


async def _audit_count(build: Builder, action: str, entity_id: object) -> int:
    return await build.count(
        AuditEntry, AuditEntry.action == action, AuditEntry.entity_id == str(entity_id)
    )


# -- authorization -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/outbox"),
        ("POST", "/api/v1/admin/outbox/{id}/retry"),
        ("POST", "/api/v1/admin/outbox/{id}/discard"),
        ("GET", "/api/v1/admin/users"),
        ("POST", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/users/{id}"),
        ("PATCH", "/api/v1/admin/users/{id}"),
        ("DELETE", "/api/v1/admin/users/{id}"),
    ],
)
async def test_only_admins_reach_the_admin_api(
    client: Any, build: Builder, method: str, path: str
) -> None:
    area = await build.area()
    dead = await _message(build, "dead")
    staff = await build.person(Role.DISPATCHER, area.territory)
    target = str(dead.id) if "outbox" in path else str(staff.user.id)
    url = path.format(id=target)
    body = {"full_name": "X"} if method == "PATCH" else None
    if method == "POST" and path.endswith("users"):
        body = {
            "username": f"n{uuid.uuid4().hex[:10]}",
            "password": "long-enough-password",
            "full_name": "Новый Диспетчер",
            "role": "dispatcher",
            "territory_ids": [str(area.territory.id)],
        }
    users_before = await build.count(User)
    anonymous = await client.request(method, url, json=body)
    assert anonymous.status_code == 401
    for role in OTHER_ROLES:
        caller = await build.person(role, area.territory)
        refused = await client.request(method, url, json=body, headers=caller.headers)
        assert refused.status_code == 403, (role, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    # Nothing changed: the message is as it was, the account still active, no account added.
    async with build.sessionmaker() as session:
        assert (await session.get_one(OutboxMessage, dead.id)).status == "dead"
        assert (await session.get_one(User, staff.user.id)).is_active
    assert await build.count(User) == users_before + len(OTHER_ROLES)


# -- outbox -----------------------------------------------------------------------------


async def test_admin_lists_dead_and_pending_messages_in_pages(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    dead = [await _message(build, "dead") for _ in range(3)]
    pending = await _message(build, "pending")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"status": "dead", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get("/api/v1/admin/outbox", params=params, headers=admin.headers)
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert all(item["status"] == "dead" for item in items)
        seen += [item["id"] for item in items]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert {str(m.id) for m in dead} <= set(seen)
    assert len(seen) == len(set(seen))
    assert str(pending.id) not in seen
    first = next(
        i
        for i in (
            await client.get("/api/v1/admin/outbox?status=dead", headers=admin.headers)
        ).json()["items"]
        if i["id"] == str(dead[-1].id)
    )
    assert first["last_error"] == "gateway answered 503"
    assert first["retriable"] is True
    assert "recipient_address" not in first
    assert "context" not in first
    pending_page = await client.get(
        "/api/v1/admin/outbox", params={"status": "pending", "limit": 200}, headers=admin.headers
    )
    assert str(pending.id) in {i["id"] for i in pending_page.json()["items"]}
    for bad in ({"status": "delivered"}, {"limit": 0}, {"cursor": "not-a-cursor"}):
        refused = await client.get("/api/v1/admin/outbox", params=bad, headers=admin.headers)
        assert refused.status_code in (400, 422), bad
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_retry_makes_a_dead_message_due_now_and_is_audited(
    client: Any, build: Builder
) -> None:
    admin = await build.person(Role.ADMIN)
    dead = await _message(build, "dead")
    retried = await client.post(f"/api/v1/admin/outbox/{dead.id}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    async with build.sessionmaker() as session:
        row = await session.get_one(OutboxMessage, dead.id)
        now = await session.scalar(select(func.now()))
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)
    assert row.next_attempt_at <= now  # due at once, not in five hours
    assert row.next_attempt_at >= row.not_before
    assert await _audit_count(build, "outbox.retried", dead.id) == 1


async def test_retry_refuses_what_cannot_be_sent_as_meant_and_writes_nothing(
    client: Any, build: Builder
) -> None:
    admin = await build.person(Role.ADMIN)
    # A dead rating request whose link was removed when it died.
    stripped = await _message(build, "dead", template="rating.requested", other="x")
    delivered = await _message(build, "delivered")
    for message, code in ((stripped, "secret_removed"), (delivered, "not_retriable")):
        refused = await client.post(
            f"/api/v1/admin/outbox/{message.id}/retry", headers=admin.headers
        )
        assert refused.status_code == 409, refused.text
        assert problem(refused)["code"] == code
        async with build.sessionmaker() as session:
            row = await session.get_one(OutboxMessage, message.id)
        assert (row.status, row.attempts) == (message.status, message.attempts)
        assert await _audit_count(build, "outbox.retried", message.id) == 0
    missing = await client.post(f"/api/v1/admin/outbox/{uuid.uuid4()}/retry", headers=admin.headers)
    assert missing.status_code == 404
    listed = await client.get("/api/v1/admin/outbox?limit=200", headers=admin.headers)
    assert {i["id"]: i["retriable"] for i in listed.json()["items"]}[str(stripped.id)] is False


async def test_discard_drops_a_dead_message_and_is_audited(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    dead = await _message(build, "dead")
    delivered = await _message(build, "delivered")
    gone = await client.post(f"/api/v1/admin/outbox/{dead.id}/discard", headers=admin.headers)
    assert gone.status_code == 204
    assert await build.count(OutboxMessage, OutboxMessage.id == dead.id) == 0
    assert await _audit_count(build, "outbox.discarded", dead.id) == 1
    again = await client.post(f"/api/v1/admin/outbox/{dead.id}/discard", headers=admin.headers)
    assert again.status_code == 404
    kept = await client.post(f"/api/v1/admin/outbox/{delivered.id}/discard", headers=admin.headers)
    assert kept.status_code == 409
    assert await build.count(OutboxMessage, OutboxMessage.id == delivered.id) == 1
    assert await _audit_count(build, "outbox.discarded", delivered.id) == 0


# -- staff accounts -----------------------------------------------------------------------


async def test_admin_creates_a_coordinator_who_can_log_in_within_their_territory(
    client: Any, build: Builder
) -> None:
    admin = await build.person(Role.ADMIN)
    area, other = await build.area(), await build.area()
    username = f"coord{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/v1/admin/users",
        json={
            "username": username,
            "password": "a-long-enough-password",
            "full_name": "Ахметова Сауле",
            "role": "coordinator",
            "territory_ids": [str(area.territory.id)],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["role"], user["active"]) == ("coordinator", True)
    assert user["territory_ids"] == [str(area.territory.id)]
    assert "password" not in user
    assert "password_hash" not in user
    assert await _audit_count(build, "user.created", user["id"]) == 1
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "a-long-enough-password"}
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    mine = await client.get(f"/api/v1/territories/{area.territory.id}", headers=headers)
    theirs = await client.get(f"/api/v1/territories/{other.territory.id}", headers=headers)
    assert (mine.status_code, theirs.status_code) == (200, 404)

    # Re-scoped: the next token carries the new territory.
    moved = await client.patch(
        f"/api/v1/admin/users/{user['id']}",
        json={"territory_ids": [str(other.territory.id)]},
        headers=admin.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["territory_ids"] == [str(other.territory.id)]
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (
        await client.get(f"/api/v1/territories/{other.territory.id}", headers=headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/territories/{area.territory.id}", headers=headers)
    ).status_code == 404


async def test_bad_staff_input_is_a_problem_and_writes_nothing(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    area = await build.area()
    taken = await build.person(Role.DISPATCHER, area.territory)
    good = {
        "username": f"d{uuid.uuid4().hex[:10]}",
        "password": "a-long-enough-password",
        "full_name": "Диспетчер",
        "role": "dispatcher",
        "territory_ids": [str(area.territory.id)],
    }
    users, audits = await build.count(User), await build.count(AuditEntry)
    for body, status in (
        (good | {"role": "admin"}, 400),
        (good | {"role": "technician"}, 400),
        (good | {"password": "short"}, 400),
        (good | {"territory_ids": []}, 400),
        (good | {"territory_ids": [str(uuid.uuid4())]}, 422),
        (good | {"username": taken.user.username}, 409),
        (good | {"is_active": False}, 400),
    ):
        refused = await client.post("/api/v1/admin/users", json=body, headers=admin.headers)
        assert refused.status_code in (status, 422 if status == 400 else status), (
            body,
            refused.text,
        )
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await build.count(User), await build.count(AuditEntry)) == (users, audits)
    patched = await client.patch(
        f"/api/v1/admin/users/{taken.user.id}",
        json={"territory_ids": [str(uuid.uuid4())]},
        headers=admin.headers,
    )
    assert patched.status_code == 422
    async with build.sessionmaker() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(User).where(User.id == taken.user.id)
            )
            == 1
        )


async def test_technicians_and_admins_are_not_staff_accounts_here(
    client: Any, build: Builder
) -> None:
    admin = await build.person(Role.ADMIN)
    area = await build.area()
    technician = await build.person(Role.TECHNICIAN, area.territory)
    other_admin = await build.person(Role.ADMIN)
    for user in (technician.user, other_admin.user):
        for method in ("GET", "DELETE"):
            answer = await client.request(
                method, f"/api/v1/admin/users/{user.id}", headers=admin.headers
            )
            assert answer.status_code == 404, (method, answer.text)
    async with build.sessionmaker() as session:
        assert (await session.get_one(User, technician.user.id)).is_active
        assert (await session.get_one(User, other_admin.user.id)).is_active
    listed = await client.get("/api/v1/admin/users?limit=200", headers=admin.headers)
    roles = {item["role"] for item in listed.json()["items"]}
    assert roles <= {"dispatcher", "coordinator", "supervisor"}


async def test_deactivation_ends_every_session_at_once(client: Any, build: Builder) -> None:
    from tests.integration.builders import PASSWORD

    admin = await build.person(Role.ADMIN)
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    login = await client.post(
        "/api/v1/auth/login", json={"username": supervisor.user.username, "password": PASSWORD}
    )
    assert login.status_code == 200
    live = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/territories", headers=live)).status_code == 200
    gone = await client.delete(f"/api/v1/admin/users/{supervisor.user.id}", headers=admin.headers)
    assert gone.status_code == 204
    # The same access tokens, still within their lifetime, are refused from the next request.
    for headers in (live, supervisor.headers):
        assert (await client.get("/api/v1/territories", headers=headers)).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refreshed.status_code == 401
    again = await client.post(
        "/api/v1/auth/login", json={"username": supervisor.user.username, "password": PASSWORD}
    )
    assert again.status_code == 401
    assert (
        await build.count(
            AuthSession, AuthSession.user_id == supervisor.user.id, AuthSession.revoked_at.is_(None)
        )
        == 0
    )
    assert (
        await build.count(
            RefreshToken,
            RefreshToken.user_id == supervisor.user.id,
            RefreshToken.revoked_at.is_(None),
        )
        == 0
    )
    assert await _audit_count(build, "user.deactivated", supervisor.user.id) == 1
    shown = await client.get(f"/api/v1/admin/users/{supervisor.user.id}", headers=admin.headers)
    assert shown.json()["active"] is False
