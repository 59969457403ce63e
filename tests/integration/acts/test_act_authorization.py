"""Every act endpoint: anonymous 401, wrong role 403, other territory 404, other technician 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from service.common.actor import Role
from tests.conftest import problem
from tests.integration.acts.conftest import Acts, Field
from tests.integration.builders import Builder, Person

pytestmark = pytest.mark.asyncio

ALL = frozenset(Role)


@dataclass(frozen=True)
class Endpoint:
    """One route, who may call it, and whether it names an act (so scope answers 404)."""

    method: str
    path: str
    roles: frozenset[Role]
    scoped: bool = False
    upload: bool = False


ENDPOINTS = [
    Endpoint("GET", "/api/v1/acts", ALL),
    Endpoint("GET", "/api/v1/acts/{act}", ALL, scoped=True),
    Endpoint("GET", "/api/v1/acts/{act}/pdf", ALL, scoped=True),
    Endpoint("POST", "/api/v1/acts/verify", ALL, upload=True),
]
SCOPED = [e for e in ENDPOINTS if e.scoped]
_IDS = [f"{e.method} {e.path}" for e in ENDPOINTS]


@dataclass
class Scene:
    """A signed act in a home territory; people of every role; outsiders."""

    field: Field
    people: dict[Role, Person]
    outsider: Person
    other_technician: Person
    act: Any
    pdf: bytes


@pytest.fixture
async def scene(build: Builder, acts: Acts, field: Field) -> Scene:
    """The act of the field's visit, signed; a person of every role in its territory."""
    territory = field.area.territory
    people: dict[Role, Person] = {
        role: await build.person(role, territory)
        for role in Role
        if role not in (Role.ADMIN, Role.TECHNICIAN)
    }
    people[Role.TECHNICIAN] = field.technician
    people[Role.ADMIN] = await build.person(Role.ADMIN)
    away = await build.area()
    act = await acts.signed(field)
    return Scene(
        field=field,
        people=people,
        outsider=await build.person(Role.DISPATCHER, away.territory),
        other_technician=await build.person(Role.TECHNICIAN, territory),
        act=act,
        pdf=await acts.store.get(act.pdf_key or ""),
    )


async def _call(client: Any, endpoint: Endpoint, scene: Scene, headers: dict[str, str]) -> Any:
    url = endpoint.path.format(act=scene.act.id)
    if endpoint.upload:
        files = {"file": ("act.pdf", scene.pdf, "application/pdf")}
        return await client.post(url, files=files, headers=headers)
    return await client.request(endpoint.method, url, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_IDS)
async def test_anonymous_is_401(client: Any, scene: Scene, endpoint: Endpoint) -> None:
    response = await _call(client, endpoint, scene, {})
    assert response.status_code == 401
    problem(response)
    bogus = await _call(client, endpoint, scene, {"Authorization": "Bearer x.y.z"})
    assert bogus.status_code == 401
    problem(bogus)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_IDS)
async def test_roles(client: Any, scene: Scene, endpoint: Endpoint) -> None:
    for role in Role:
        response = await _call(client, endpoint, scene, scene.people[role].headers)
        if role in endpoint.roles:
            assert response.status_code in (200, 307), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            problem(response)


@pytest.mark.parametrize("endpoint", SCOPED, ids=[f"{e.method} {e.path}" for e in SCOPED])
async def test_other_territory_is_404(client: Any, scene: Scene, endpoint: Endpoint) -> None:
    response = await _call(client, endpoint, scene, scene.outsider.headers)
    assert response.status_code == 404, response.text
    problem(response)


@pytest.mark.parametrize("endpoint", SCOPED, ids=[f"{e.method} {e.path}" for e in SCOPED])
async def test_other_technician_is_404(client: Any, scene: Scene, endpoint: Endpoint) -> None:
    owner = await _call(client, endpoint, scene, scene.field.technician.headers)
    assert owner.status_code in (200, 307)
    response = await _call(client, endpoint, scene, scene.other_technician.headers)
    assert response.status_code == 404, response.text
    problem(response)


async def test_lists_hide_acts_out_of_scope(client: Any, scene: Scene) -> None:
    act_id = str(scene.act.id)
    for person in (scene.outsider, scene.other_technician):
        response = await client.get("/api/v1/acts", headers=person.headers, params={"limit": 200})
        assert response.status_code == 200
        assert act_id not in {item["id"] for item in response.json()["items"]}
    for person in (scene.field.technician, scene.field.dispatcher, scene.people[Role.ADMIN]):
        response = await client.get(
            "/api/v1/acts",
            headers=person.headers,
            params={"work_order_id": str(scene.field.order.id)},
        )
        assert act_id in {item["id"] for item in response.json()["items"]}


async def test_upload_out_of_scope_gets_the_public_record_but_no_act_id(
    client: Any, scene: Scene
) -> None:
    for person, expected in (
        (scene.field.technician, str(scene.act.id)),
        (scene.outsider, None),
        (scene.other_technician, None),
    ):
        response = await _call(client, ENDPOINTS[3], scene, person.headers)
        body = response.json()
        assert body["verdict"] == "intact"
        assert body["act"]["number"] == scene.act.number
        assert body["act_id"] == expected


async def test_public_page_is_open_to_anonymous_callers(client: Any, scene: Scene) -> None:
    response = await client.get(
        f"/verify/acts/{scene.act.public_id}", headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
