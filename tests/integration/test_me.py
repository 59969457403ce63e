"""GET /api/v1/me and /mobile/v1/me: each caller sees themselves, and only themselves."""

from __future__ import annotations

from typing import Any

import pytest

from service.common.actor import Role
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import log_in

pytestmark = pytest.mark.asyncio


async def test_staff_me_names_the_user_and_their_territories(client: Any, build: Builder) -> None:
    area = await build.area()
    other = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    response = await client.get(
        "/api/v1/me", headers={**dispatcher.headers, "Accept-Language": "kk, ru;q=0.5"}
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["user_id"] == str(dispatcher.user.id)
    assert me["username"] == dispatcher.user.username
    assert me["role"] == "dispatcher"
    assert [t["id"] for t in me["territories"]] == [str(area.territory.id)]
    assert str(other.territory.id) not in response.text
    assert me["territories"][0]["time_zone"] == area.territory.time_zone
    assert me["language"] == "kk"
    assert me["technician_id"] is None
    assert me["personnel_no"] is None


async def test_each_technician_sees_only_themselves(client: Any, build: Builder) -> None:
    area = await build.area()
    first = await build.technician_at(area, 0.1, 0.1)
    second = await build.technician_at(area, 0.2, 0.2)
    for person in (first, second):
        assert person.technician is not None
        phone = await log_in(client, person)
        for path in ("/api/v1/me", "/mobile/v1/me"):
            response = await client.get(path, headers=phone.headers())
            assert response.status_code == 200, response.text
            me = response.json()
            assert me["user_id"] == str(person.user.id)
            assert me["role"] == "technician"
            assert me["technician_id"] == str(person.technician.id)
            assert me["personnel_no"] == person.technician.personnel_no
            assert [t["id"] for t in me["territories"]] == [str(area.territory.id)]
            assert me["language"] == "ru"


async def test_mobile_me_is_for_technicians_on_a_device(client: Any, build: Builder) -> None:
    area = await build.area()
    anonymous = await client.get("/mobile/v1/me")
    assert anonymous.status_code == 401
    problem(anonymous)
    for role in (Role.ADMIN, Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR):
        staff = await build.person(role, area.territory)
        refused = await client.get("/mobile/v1/me", headers=staff.headers)
        assert refused.status_code == 403, role
        problem(refused)
    # A technician token that is not bound to a phone cannot use the mobile API.
    technician = await build.technician_at(area, 0.3, 0.3)
    unbound = await client.get("/mobile/v1/me", headers=technician.headers)
    assert unbound.status_code == 401
    problem(unbound)


async def test_me_of_a_deactivated_account_is_401(client: Any, build: Builder) -> None:
    area = await build.area()
    person = await build.person(Role.COORDINATOR, area.territory, active=False)
    response = await client.get("/api/v1/me", headers=person.headers)
    assert response.status_code == 401
    problem(response)
