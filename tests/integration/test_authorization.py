"""Every back-office endpoint: anonymous 401, wrong role 403, out of scope 404."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from service.app import _auth
from service.common.actor import Role
from service.settings import Settings
from tests.conftest import problem
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio

ALL = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR})
DISPATCH = frozenset({Role.ADMIN, Role.DISPATCHER})
ADMIN = frozenset({Role.ADMIN})
PLANNERS = DISPATCH | {Role.COORDINATOR}
AVAILABILITY = DISPATCH | {Role.SUPERVISOR}
WINDOW = {"start": "2031-03-03T11:00:00+05:00", "end": "2031-03-03T13:00:00+05:00"}
PERIOD = "from=2031-03-01T00:00:00Z&to=2031-03-10T00:00:00Z"


@dataclass(frozen=True)
class Endpoint:
    """One route with who may call it and whether it names a scoped object."""

    method: str
    path: str
    roles: frozenset[Role]
    scoped: bool = False
    body: dict[str, Any] | None = None


ENDPOINTS = [
    Endpoint("GET", "/api/v1/territories", STAFF),
    Endpoint("POST", "/api/v1/territories", ADMIN, body={}),
    Endpoint("GET", "/api/v1/territories/{territory}", STAFF, scoped=True),
    Endpoint("PATCH", "/api/v1/territories/{territory}", ADMIN, body={"name": "X"}),
    Endpoint("DELETE", "/api/v1/territories/{territory}", ADMIN),
    Endpoint("GET", "/api/v1/customers", STAFF),
    Endpoint("POST", "/api/v1/customers", DISPATCH, body={}),
    Endpoint("GET", "/api/v1/customers/{customer}", STAFF, scoped=True),
    Endpoint("PATCH", "/api/v1/customers/{customer}", DISPATCH, scoped=True, body={"notes": "n"}),
    Endpoint("DELETE", "/api/v1/customers/{customer}", DISPATCH, scoped=True),
    Endpoint("GET", "/api/v1/sites", STAFF),
    Endpoint("POST", "/api/v1/sites", DISPATCH, body={}),
    Endpoint("GET", "/api/v1/sites/{site}", STAFF, scoped=True),
    Endpoint("PATCH", "/api/v1/sites/{site}", DISPATCH, scoped=True, body={"access_notes": "n"}),
    Endpoint("DELETE", "/api/v1/sites/{site}", DISPATCH, scoped=True),
    Endpoint("GET", "/api/v1/technicians", STAFF),
    Endpoint("POST", "/api/v1/technicians", ADMIN, body={}),
    Endpoint("GET", "/api/v1/technicians/{technician}", STAFF, scoped=True),
    Endpoint("PATCH", "/api/v1/technicians/{technician}", ADMIN, body={"skills": ["repair"]}),
    Endpoint("DELETE", "/api/v1/technicians/{technician}", ADMIN),
    Endpoint("GET", "/api/v1/me", ALL),
    Endpoint("GET", "/api/v1/work-orders", ALL),
    Endpoint("POST", "/api/v1/work-orders", DISPATCH, body={}),
    Endpoint("GET", "/api/v1/work-orders/{order}", ALL, scoped=True),
    Endpoint(
        "PATCH",
        "/api/v1/work-orders/{order}",
        DISPATCH | {Role.COORDINATOR},
        scoped=True,
        body={"priority": "high"},
    ),
    Endpoint(
        "POST",
        "/api/v1/work-orders/{order}/cancel",
        DISPATCH,
        scoped=True,
        body={"reason": "Клиент отказался"},
    ),
    Endpoint("GET", "/api/v1/work-orders/{order}/slots", PLANNERS, scoped=True),
    Endpoint(
        "POST",
        "/api/v1/work-orders/{order}/visits",
        PLANNERS,
        scoped=True,
        body={"window": WINDOW, "agreed_by": {"name": "A", "channel": "phone"}},
    ),
    Endpoint("GET", "/api/v1/work-orders/{order}/visits", ALL, scoped=True),
    Endpoint("GET", "/api/v1/visits/{visit}", ALL, scoped=True),
    Endpoint("GET", "/api/v1/visits/{visit}/customer-links", PLANNERS, scoped=True),
    Endpoint(
        "PATCH",
        "/api/v1/visits/{visit}",
        PLANNERS,
        scoped=True,
        body={"planned_start": "2031-03-03T11:30:00+05:00"},
    ),
    Endpoint(
        "POST",
        "/api/v1/visits/{visit}/reschedule",
        PLANNERS,
        scoped=True,
        body={
            "window": WINDOW,
            "reason_code": "customer_request",
            "agreed_by": {"name": "A", "channel": "phone"},
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/visits/{visit}/reassign",
        DISPATCH,
        scoped=True,
        body={"reason_code": "workload"},
    ),
    Endpoint(
        "POST",
        "/api/v1/visits/{visit}/cancel",
        DISPATCH,
        scoped=True,
        body={"reason": "Клиент уехал"},
    ),
    Endpoint("GET", "/api/v1/technicians/{technician}/day", ALL, scoped=True),
    Endpoint("GET", "/api/v1/technicians/{technician}/schedule", ALL, scoped=True),
    Endpoint(
        "PUT",
        "/api/v1/technicians/{technician}/schedule",
        AVAILABILITY,
        scoped=True,
        body={"time_zone": "Asia/Almaty", "shifts": []},
    ),
    Endpoint("GET", "/api/v1/technicians/{technician}/absences?" + PERIOD, STAFF, scoped=True),
    Endpoint(
        "POST",
        "/api/v1/technicians/{technician}/absences",
        AVAILABILITY,
        scoped=True,
        body={"period": {"start": "2031-03-01T00:00:00Z", "end": "2031-03-02T00:00:00Z"}},
    ),
    Endpoint(
        "DELETE", "/api/v1/technicians/{technician}/absences/{absence}", AVAILABILITY, scoped=True
    ),
]


@pytest.fixture
async def scene(build: Builder) -> dict[str, Any]:
    """Two territories; a person of every role in the first; a dispatcher of the second."""
    home = await build.area()
    away = await build.area()
    people = {
        role: await build.person(role, home.territory) for role in Role if role is not Role.ADMIN
    }
    people[Role.ADMIN] = await build.person(Role.ADMIN)
    technician = people[Role.TECHNICIAN].technician
    order = await build.order(home, status="scheduled")
    assert technician is not None
    visit = await build.visit(order, technician)
    absence = await build.absence(technician)
    return {
        "home": home,
        "people": people,
        "outsider": await build.person(Role.DISPATCHER, away.territory),
        "other_technician": await build.person(Role.TECHNICIAN, home.territory),
        "ids": {
            "territory": home.territory.id,
            "customer": home.customer.id,
            "site": home.site.id,
            "technician": technician.id,
            "order": order.id,
            "visit": visit.id,
            "absence": absence.id,
        },
        "order": order,
    }


def _url(endpoint: Endpoint, ids: dict[str, Any]) -> str:
    return endpoint.path.format(**ids)


async def _call(client: Any, endpoint: Endpoint, url: str, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": {**headers, "If-Match": "*"}}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body
    return await client.request(endpoint.method, url, **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_anonymous_is_401(client: Any, scene: dict[str, Any], endpoint: Endpoint) -> None:
    response = await _call(client, endpoint, _url(endpoint, scene["ids"]), {})
    assert response.status_code == 401
    problem(response)
    bogus = await _call(
        client, endpoint, _url(endpoint, scene["ids"]), {"Authorization": "Bearer x.y.z"}
    )
    assert bogus.status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_wrong_role_is_403(client: Any, scene: dict[str, Any], endpoint: Endpoint) -> None:
    for role in set(Role) - endpoint.roles:
        response = await _call(
            client, endpoint, _url(endpoint, scene["ids"]), scene["people"][role].headers
        )
        assert response.status_code == 403, (role, response.text)
        problem(response)


# Admin-only endpoints are not territory-scoped; every scoped one admits dispatchers.
SCOPED = [e for e in ENDPOINTS if e.scoped and Role.DISPATCHER in e.roles]


@pytest.mark.parametrize("endpoint", SCOPED, ids=lambda e: f"{e.method} {e.path}")
async def test_other_territory_is_404(
    client: Any, scene: dict[str, Any], endpoint: Endpoint
) -> None:
    outsider = scene["outsider"]
    response = await _call(client, endpoint, _url(endpoint, scene["ids"]), outsider.headers)
    assert response.status_code == 404, response.text
    problem(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/work-orders/{order}",
        "/api/v1/work-orders/{order}/visits",
        "/api/v1/visits/{visit}",
        "/api/v1/technicians/{technician}/day",
        "/api/v1/technicians/{technician}/schedule",
    ],
)
async def test_other_technician_is_404(client: Any, scene: dict[str, Any], path: str) -> None:
    owner = scene["people"][Role.TECHNICIAN]
    other = scene["other_technician"]
    url = path.format(**scene["ids"])
    assert (await client.get(url, headers=owner.headers)).status_code == 200
    response = await client.get(url, headers=other.headers)
    assert response.status_code == 404
    problem(response)


async def test_scoped_lists_hide_other_territories(client: Any, scene: dict[str, Any]) -> None:
    outsider = scene["outsider"]
    for path in (
        "/api/v1/customers",
        "/api/v1/sites",
        "/api/v1/work-orders",
        "/api/v1/technicians",
        "/api/v1/territories",
    ):
        response = await client.get(path, headers=outsider.headers, params={"limit": 200})
        ids = {item["id"] for item in response.json()["items"]}
        assert not ids & {str(v) for v in scene["ids"].values()}, path


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/board", True),
        ("/board/login", True),
        ("/rate/abc", True),
        ("/health", True),
        ("/api/v1/work-orders/board", False),
        ("/api/v1/coordination/rate/x", False),
        ("/api/v1/sites/health", False),
    ],
)
async def test_public_prefixes_count_only_at_the_start_of_a_path(
    settings: Settings, path: str, public: bool
) -> None:
    # Litestar searches exclusions anywhere in a path; a public word inside a private path must
    # not open it.
    exclude = _auth(settings).exclude
    assert isinstance(exclude, list)
    assert bool(re.search("|".join(exclude), path)) is public
