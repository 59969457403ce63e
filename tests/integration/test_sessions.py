"""Sessions are server-side truth: revocation ends every token on every surface at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import select, update

from service.auth.services import REUSE_GRACE
from service.auth.tokens import ALGORITHM, issue_access_token, refresh_token_hash
from service.common.actor import Actor, Role
from service.db.models import AuthSession, RefreshToken, User
from service.settings import Settings
from tests.conftest import problem
from tests.integration.board.test_board_page import login as board_login
from tests.integration.builders import PASSWORD, Builder, Person
from tests.integration.mobile.conftest import Phone, log_in, op


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


async def _api_status(client: Any, token: str) -> int:
    """What a back-office read answers this token."""
    return int((await client.get("/api/v1/work-orders", headers=_bearer(token))).status_code)


async def _push_status(client: Any, phone: Phone, visit_id: uuid.UUID) -> int:
    response = await client.post(
        "/mobile/v1/sync/push",
        json={"operations": [op(visit_id, "note", {"text": "на месте"})]},
        headers=_bearer(phone.access_token),
    )
    return int(response.status_code)


@pytest.fixture
def board_client(web: Any) -> Any:
    """The board's browser: the app's client without cookies (see ``web``)."""
    return web


async def _technician_in_the_field(
    client: Any, build: Builder
) -> tuple[Person, Person, Phone, Any]:
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="scheduled")
    start = datetime.now(UTC) - timedelta(minutes=30)
    visit = await build.visit(order, technician.technician, start=start, hours=3)
    return supervisor, technician, await log_in(client, technician), visit


async def test_a_revoked_device_is_refused_at_once_on_api_and_mobile(
    client: Any, build: Builder
) -> None:
    supervisor, technician, phone, visit = await _technician_in_the_field(client, build)
    # The same technician's other phone and a desk login must survive the revocation.
    other_phone = await log_in(client, technician)
    assert await _api_status(client, phone.access_token) == 200
    assert (
        await client.get("/mobile/v1/day", headers=_bearer(phone.access_token))
    ).status_code == 200

    device = _claims(phone.access_token)["dev"]
    revoked = await client.post(
        f"/api/v1/devices/{device}/revoke", json={"reason": "stolen"}, headers=supervisor.headers
    )
    assert revoked.status_code == 200, revoked.text

    assert await _api_status(client, phone.access_token) == 401
    for response in (
        await client.get("/mobile/v1/day", headers=_bearer(phone.access_token)),
        await client.get("/api/v1/acts/" + str(uuid.uuid4()), headers=_bearer(phone.access_token)),
    ):
        assert response.status_code == 401, response.text
        problem(response)
    assert await _push_status(client, phone, visit.id) == 401
    assert await _push_status(client, other_phone, visit.id) == 200
    assert await _api_status(client, other_phone.access_token) == 200


async def test_devices_are_listed_and_revoked_only_within_the_callers_scope(
    client: Any, build: Builder
) -> None:
    supervisor, technician, phone, _ = await _technician_in_the_field(client, build)
    device = _claims(phone.access_token)["dev"]
    elsewhere = await build.area()
    other_supervisor = await build.person(Role.SUPERVISOR, elsewhere.territory)
    dispatcher = await build.person(Role.DISPATCHER, elsewhere.territory)
    revoke = f"/api/v1/devices/{device}/revoke"

    assert (await client.get("/api/v1/devices")).status_code == 401
    assert (await client.post(revoke, json={"reason": "x"})).status_code == 401
    # A technician may not revoke, not even their own phone; a dispatcher only lists.
    for person in (technician, dispatcher):
        refused = await client.post(revoke, json={"reason": "x"}, headers=person.headers)
        assert refused.status_code == 403, refused.text
        problem(refused)
    assert (await client.get("/api/v1/devices", headers=technician.headers)).status_code == 403
    # Another territory's supervisor neither sees the phone nor reaches it.
    listed = await client.get("/api/v1/devices", headers=other_supervisor.headers)
    assert listed.status_code == 200
    assert device not in {d["id"] for d in listed.json()}
    hidden = await client.post(revoke, json={"reason": "x"}, headers=other_supervisor.headers)
    assert hidden.status_code == 404, hidden.text
    # Nothing was revoked by any of them: the phone still works.
    assert await _api_status(client, phone.access_token) == 200
    mine = await client.get("/api/v1/devices", headers=supervisor.headers)
    assert device in {d["id"] for d in mine.json()}


async def test_a_deactivated_technician_is_refused_on_api_and_sync_push(
    client: Any, build: Builder
) -> None:
    _, technician, phone, visit = await _technician_in_the_field(client, build)
    admin = await build.person(Role.ADMIN)
    assert technician.technician is not None
    assert await _push_status(client, phone, visit.id) == 200

    deactivated = await client.delete(
        f"/api/v1/technicians/{technician.technician.id}", headers=admin.headers
    )
    assert deactivated.status_code == 204, deactivated.text

    assert await _push_status(client, phone, visit.id) == 401
    assert await _api_status(client, phone.access_token) == 401
    assert await _api_status(client, technician.token) == 401  # a token without a device too
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": phone.refresh_token}
    )
    assert refreshed.status_code == 401


async def test_a_deactivated_user_is_logged_out_of_the_board(
    board_client: Any, build: Builder
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    signed_in = await board_login(board_client, coordinator)
    assert signed_in.status_code == 303, signed_in.text
    assert (await board_client.get("/board")).status_code == 200

    # No endpoint deactivates staff yet; an operator does it in the database.
    async with build.sessionmaker() as session:
        await session.execute(
            update(User).where(User.id == coordinator.user.id).values(is_active=False)
        )
        await session.commit()

    page = await board_client.get("/board")
    assert page.status_code == 303
    # The sign-in says the session ended (the browser still held its cookies).
    assert page.headers["location"] == "/board/login?expired=page"
    assert (await board_client.get("/board/fragment")).status_code == 401


async def test_logging_out_of_the_board_ends_its_access_token_at_once(
    board_client: Any, build: Builder
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    assert (await board_login(board_client, coordinator)).status_code == 303
    access = board_client.cookies["staff_access"]
    assert await _api_status(board_client, access) == 200  # the same session, as a bearer
    sid = uuid.UUID(_claims(access)["sid"])
    async with build.sessionmaker() as session:
        await session.execute(
            update(AuthSession).where(AuthSession.id == sid).values(revoked_at=datetime.now(UTC))
        )
        await session.commit()
    assert await _api_status(board_client, access) == 401
    assert (await board_client.get("/board")).status_code == 303


async def test_a_family_revoked_for_reuse_ends_its_access_tokens(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    login = await client.post(
        "/api/v1/auth/login", json={"username": dispatcher.user.username, "password": PASSWORD}
    )
    first = login.json()
    rotated = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert _claims(rotated["access_token"])["sid"] == _claims(first["access_token"])["sid"]
    assert await _api_status(client, first["access_token"]) == 200
    assert await _api_status(client, rotated["access_token"]) == 200
    async with build.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == refresh_token_hash(first["refresh_token"]))
            .values(used_at=RefreshToken.used_at - REUSE_GRACE - timedelta(seconds=1))
        )
        await session.commit()

    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401

    assert await _api_status(client, first["access_token"]) == 401
    assert await _api_status(client, rotated["access_token"]) == 401
    # Another login of the same user is a different session and keeps working.
    again = await client.post(
        "/api/v1/auth/login", json={"username": dispatcher.user.username, "password": PASSWORD}
    )
    assert await _api_status(client, again.json()["access_token"]) == 200


async def test_forged_tokens_signed_with_the_secret_are_refused(
    client: Any, build: Builder, settings: Settings
) -> None:
    now = datetime.now(UTC)
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    admin = await build.person(Role.ADMIN)
    nobody = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, territory_ids=frozenset())
    forged = {
        "random sub, no session": issue_access_token(nobody, settings.auth, now),
        "random sub, random session": issue_access_token(
            Actor(
                user_id=uuid.uuid4(),
                role=Role.ADMIN,
                territory_ids=frozenset(),
                session=uuid.uuid4(),
            ),
            settings.auth,
            now,
        ),
        "a real admin without a session": issue_access_token(
            Actor(user_id=admin.user.id, role=Role.ADMIN, territory_ids=frozenset()),
            settings.auth,
            now,
        ),
        "a dispatcher's session claiming admin": issue_access_token(
            Actor(
                user_id=dispatcher.user.id,
                role=Role.ADMIN,
                territory_ids=frozenset(),
                session=dispatcher.actor.session,
            ),
            settings.auth,
            now,
        ),
        "another user's session": issue_access_token(
            Actor(
                user_id=nobody.user_id,
                role=Role.ADMIN,
                territory_ids=frozenset(),
                session=admin.actor.session,
            ),
            settings.auth,
            now,
        ),
    }
    for case, token in forged.items():
        response = await client.get("/api/v1/territories", headers=_bearer(token))
        assert response.status_code == 401, case
        assert problem(response)["status"] == 401
    assert await _api_status(client, admin.token) == 200
    assert await _api_status(client, dispatcher.token) == 200


async def test_signed_tokens_with_claims_of_the_wrong_shape_are_a_401(
    client: Any, build: Builder, settings: Settings
) -> None:
    admin = await build.person(Role.ADMIN)
    claims = _claims(admin.token)
    for name, wrong in (
        ("sid", 5),
        ("sid", [str(admin.actor.session)]),
        ("terr", 5),
        ("terr", [5]),
        ("terr", str(uuid.uuid4())),
        ("tech", 7),
        ("dev", ["phone"]),
        ("role", ["admin"]),
    ):
        token = jwt.encode({**claims, name: wrong}, settings.auth.jwt_secret, algorithm=ALGORITHM)
        response = await client.get("/api/v1/territories", headers=_bearer(token))
        assert response.status_code == 401, (name, wrong, response.text)
        assert problem(response)["status"] == 401
    assert await _api_status(client, admin.token) == 200


async def test_logins_record_their_session(client: Any, build: Builder) -> None:
    _, technician, phone, _ = await _technician_in_the_field(client, build)
    claims = _claims(phone.access_token)
    async with build.sessionmaker() as session:
        row = await session.scalar(
            select(AuthSession).where(AuthSession.id == uuid.UUID(claims["sid"]))
        )
    assert row is not None
    assert row.user_id == technician.user.id
    assert str(row.device_id) == claims["dev"]
    assert row.revoked_at is None
