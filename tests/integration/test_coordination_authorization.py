"""Every coordination endpoint: anonymous 401, wrong role 403 (technicians always), scope 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.auth.actor import Role
from service.db.models import BusinessCalendar
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.sla.helpers import use_policy

pytestmark = pytest.mark.asyncio

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR})
BASE = "/api/v1/coordination"


@dataclass(frozen=True)
class Endpoint:
    """One route, who may call it, and whether it names a territory-scoped object."""

    method: str
    path: str
    roles: frozenset[Role]
    scoped: bool = False
    body: dict[str, Any] | None = None


ENDPOINTS = [
    Endpoint("GET", f"{BASE}/overdue", STAFF),
    Endpoint("GET", f"{BASE}/overdue?format=csv", STAFF),
    Endpoint("GET", f"{BASE}/kpis", STAFF),
    Endpoint("GET", f"{BASE}/work-orders/{{order}}/clocks", STAFF, scoped=True),
    Endpoint("GET", f"{BASE}/sla-policies", STAFF),
    Endpoint("POST", f"{BASE}/sla-policies", ADMIN, body={}),
    Endpoint("GET", f"{BASE}/sla-policies/{{policy}}", STAFF),
    Endpoint("PATCH", f"{BASE}/sla-policies/{{policy}}", ADMIN, body={"name": "x"}),
    Endpoint("DELETE", f"{BASE}/sla-policies/{{policy}}", ADMIN),
    Endpoint("GET", f"{BASE}/calendars", STAFF),
    Endpoint("POST", f"{BASE}/calendars", ADMIN, body={}),
    Endpoint("GET", f"{BASE}/calendars/{{calendar}}", STAFF),
    Endpoint("PATCH", f"{BASE}/calendars/{{calendar}}", ADMIN, body={"name": "x"}),
    Endpoint("DELETE", f"{BASE}/calendars/{{calendar}}", ADMIN),
    Endpoint("GET", f"{BASE}/calendars/{{calendar}}/holidays", STAFF),
    Endpoint("POST", f"{BASE}/calendars/{{calendar}}/holidays", ADMIN, body={"items": []}),
    Endpoint("PUT", f"{BASE}/calendars/{{calendar}}/holidays/2027", ADMIN, body={"items": []}),
    Endpoint("DELETE", f"{BASE}/calendars/{{calendar}}/holidays/2027-01-01", ADMIN),
    Endpoint("GET", f"{BASE}/territories/{{territory}}/profile", STAFF, scoped=True),
    Endpoint("PUT", f"{BASE}/territories/{{territory}}/profile", ADMIN, body={}),
]


@pytest.fixture
async def scene(build: Builder) -> dict[str, Any]:
    """A person of every role in one territory, a dispatcher of another, an overdue order."""
    home = await build.area()
    away = await build.area()
    people = {
        role: await build.person(role, home.territory) for role in Role if role is not Role.ADMIN
    }
    people[Role.ADMIN] = await build.person(Role.ADMIN)
    order = await build.order(home, control_deadline=datetime.now(UTC) - timedelta(hours=1))
    async with build.sessionmaker() as session:
        calendar = BusinessCalendar(
            code=f"A{uuid.uuid4().hex[:8].upper()}", name="x", country="KZ", zones=[], hours=[]
        )
        session.add(calendar)
        await session.commit()
    policy = await use_policy(
        build,
        work_type="meter_check",
        priority="low",
        segment="b2b",
        area_kind="rural",
        response=1,
        arrival=2,
        resolution=3,
    )
    return {
        "people": people,
        "outsider": await build.person(Role.DISPATCHER, away.territory),
        "ids": {
            "order": order.id,
            "policy": policy.id,
            "calendar": calendar.id,
            "territory": home.territory.id,
        },
    }


async def _call(
    client: Any, endpoint: Endpoint, ids: dict[str, Any], headers: dict[str, str]
) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body
    return await client.request(endpoint.method, endpoint.path.format(**ids), **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_anonymous_is_401(client: Any, scene: dict[str, Any], endpoint: Endpoint) -> None:
    response = await _call(client, endpoint, scene["ids"], {})
    assert response.status_code == 401
    problem(response)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_wrong_role_is_403(client: Any, scene: dict[str, Any], endpoint: Endpoint) -> None:
    assert Role.TECHNICIAN not in endpoint.roles
    for role in set(Role) - endpoint.roles:
        response = await _call(client, endpoint, scene["ids"], scene["people"][role].headers)
        assert response.status_code == 403, (role, response.text)
        problem(response)


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.scoped], ids=lambda e: f"{e.method} {e.path}"
)
async def test_other_territory_is_404(
    client: Any, scene: dict[str, Any], endpoint: Endpoint
) -> None:
    own = await _call(client, endpoint, scene["ids"], scene["people"][Role.DISPATCHER].headers)
    assert own.status_code == 200, own.text
    response = await _call(client, endpoint, scene["ids"], scene["outsider"].headers)
    assert response.status_code == 404, response.text
    problem(response)


async def test_board_and_kpis_filter_other_territories(client: Any, scene: dict[str, Any]) -> None:
    order_id = str(scene["ids"]["order"])
    own = await client.get(f"{BASE}/overdue", headers=scene["people"][Role.SUPERVISOR].headers)
    assert order_id in {i["work_order_id"] for i in own.json()["items"]}
    outsider = scene["outsider"]
    board = await client.get(f"{BASE}/overdue", params={"limit": 200}, headers=outsider.headers)
    assert order_id not in {i["work_order_id"] for i in board.json()["items"]}
    exported = await client.get(
        f"{BASE}/overdue", params={"format": "csv"}, headers=outsider.headers
    )
    assert exported.status_code == 200
    kpis = await client.get(
        f"{BASE}/kpis",
        params={"territory": str(scene["ids"]["territory"])},
        headers=outsider.headers,
    )
    assert kpis.json()["overdue"]["open_orders"] == 0


async def test_board_filtered_to_another_territory_shows_nothing(
    client: Any, scene: dict[str, Any]
) -> None:
    order_id = str(scene["ids"]["order"])
    home = {"territory": str(scene["ids"]["territory"])}
    own = await client.get(
        f"{BASE}/overdue", params=home, headers=scene["people"][Role.COORDINATOR].headers
    )
    assert order_id in {i["work_order_id"] for i in own.json()["items"]}
    outsider = scene["outsider"].headers
    board = await client.get(f"{BASE}/overdue", params=home, headers=outsider)
    assert board.status_code == 200
    assert board.json()["items"] == []
    assert board.json()["counts"]["total"] == 0
    csv_params = home | {"format": "csv"}
    exported = await client.get(f"{BASE}/overdue", params=csv_params, headers=outsider)
    assert exported.status_code == 200
    assert len(exported.content.decode("utf-8-sig").strip().splitlines()) == 1
    technician = await client.get(
        f"{BASE}/overdue", params={"limit": 200}, headers=scene["people"][Role.TECHNICIAN].headers
    )
    assert technician.status_code == 403
