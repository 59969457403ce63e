"""Territories, customers, sites and technicians: CRUD, validation, nothing written on errors."""

from __future__ import annotations

from typing import Any

import pytest

from service.common.actor import Role
from service.db.models import AuditEntry, Customer, Site, Technician, Territory, User
from tests.conftest import problem
from tests.integration.builders import Builder, next_cell

pytestmark = pytest.mark.asyncio


def _square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


async def test_territory_crud_and_geometry(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    lon, lat = next_cell()
    created = await client.post(
        "/api/v1/territories",
        json={
            "code": f"BX{int(lon * 10) % 1000}",
            "name": "Барнаул",
            "time_zone": "Asia/Barnaul",
            "area": _square(lon, lat),
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    territory = created.json()
    assert territory["area"]["type"] == "MultiPolygon"
    assert territory["area"]["coordinates"][0][0][0] == pytest.approx([lon, lat])

    renamed = await client.patch(
        f"/api/v1/territories/{territory['id']}",
        json={"name": "Барнаул-Центр"},
        headers=admin.headers,
    )
    assert renamed.json()["name"] == "Барнаул-Центр"
    duplicate = await client.post(
        "/api/v1/territories",
        json={
            "code": territory["code"],
            "name": "X",
            "time_zone": "Asia/Almaty",
            "area": _square(*next_cell()),
        },
        headers=admin.headers,
    )
    assert duplicate.status_code == 409
    deleted = await client.delete(f"/api/v1/territories/{territory['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert (
        await client.get(f"/api/v1/territories/{territory['id']}", headers=admin.headers)
    ).status_code == 404


async def test_territory_bad_input_writes_nothing(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    lon, lat = next_cell()
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + 1, lat + 1], [lon + 1, lat], [lon, lat + 1], [lon, lat]]
        ],
    }
    cases = [
        ({"time_zone": "Mars/Olympus"}, 422, "time_zone"),
        ({"area": bowtie}, 422, "area"),
        ({"area": {"type": "Polygon", "coordinates": [[[lon, lat], [lon + 1, lat]]]}}, 422, None),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]],
                }
            },
            422,
            None,
        ),
        ({"code": "lower case"}, 400, "code"),
        ({"extra": True}, 400, "extra"),
    ]
    before = await build.count(Territory)
    for change, status, field in cases:
        body = {
            "code": "NEWT",
            "name": "Новая",
            "time_zone": "Asia/Almaty",
            "area": _square(lon, lat),
        } | change
        response = await client.post("/api/v1/territories", json=body, headers=admin.headers)
        assert response.status_code == status, (change, response.text)
        details = problem(response)
        if field:
            assert any(e["field"].startswith(field) for e in details["errors"]), details
    assert await build.count(Territory) == before


async def test_customer_and_site_lifecycle(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    created = await client.post(
        "/api/v1/customers",
        json={
            "territory_id": str(area.territory.id),
            "full_name": "Қасымова Ұлжан",
            "phones": ["+77021234567", "+77021234567"],
            "preferred_language": "kk",
            "accessibility_needs": ["low_vision"],
        },
        headers=dispatcher.headers,
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["phones"] == ["+77021234567"]  # duplicates collapse
    site = await client.post(
        "/api/v1/sites",
        json={
            "customer_id": customer["id"],
            "address": "г. Алматы, ул. Сатпаева, 22",
            "location": area.point(0.2, 0.3),
            "access_notes": "Код домофона 45",
        },
        headers=dispatcher.headers,
    )
    assert site.status_code == 201, site.text
    assert site.json()["territory_id"] == str(area.territory.id)
    assert site.json()["location"] == area.point(0.2, 0.3)

    found = await client.get("/api/v1/customers", params={"q": "ұлжан"}, headers=dispatcher.headers)
    assert customer["id"] in {c["id"] for c in found.json()["items"]}
    by_phone = await client.get(
        "/api/v1/customers", params={"q": "1234567"}, headers=dispatcher.headers
    )
    assert customer["id"] in {c["id"] for c in by_phone.json()["items"]}
    sites = await client.get(
        "/api/v1/sites", params={"customer_id": customer["id"]}, headers=dispatcher.headers
    )
    assert [s["id"] for s in sites.json()["items"]] == [site.json()["id"]]

    patched = await client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"email": "ulzhan@example.kz", "notes": None},
        headers=dispatcher.headers,
    )
    assert patched.json()["email"] == "ulzhan@example.kz"
    in_use = await client.delete(f"/api/v1/customers/{customer['id']}", headers=dispatcher.headers)
    assert in_use.status_code == 409
    assert (
        await client.delete(f"/api/v1/sites/{site.json()['id']}", headers=dispatcher.headers)
    ).status_code == 204
    assert (
        await client.delete(f"/api/v1/customers/{customer['id']}", headers=dispatcher.headers)
    ).status_code == 204
    audit = await build.count(AuditEntry, AuditEntry.entity_id == customer["id"])
    assert audit == 3  # created, updated, deleted


async def test_customer_and_site_bad_input_writes_nothing(client: Any, build: Builder) -> None:
    area = await build.area()
    elsewhere = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    customers, sites = await build.count(Customer), await build.count(Site)
    customer_cases = [
        ({"phones": ["87011234567"]}, 400),
        ({"phones": []}, 400),
        ({"preferred_language": "de"}, 400),
        ({"accessibility_needs": ["telepathy"]}, 400),
        ({"email": "not-an-email"}, 400),
        ({"territory_id": str(elsewhere.territory.id)}, 404),
    ]
    for change, status in customer_cases:
        body = {
            "territory_id": str(area.territory.id),
            "full_name": "Иванов Иван",
            "phones": ["+77011234567"],
        } | change
        response = await client.post("/api/v1/customers", json=body, headers=dispatcher.headers)
        assert response.status_code == status, (change, response.text)
        problem(response)
    site_cases = [
        ({"location": {"lat": 91, "lon": 10}}, 400),
        ({"location": {"lat": -91, "lon": 10}}, 400),
        ({"location": {"lat": 10, "lon": 181}}, 400),
        ({"location": elsewhere.point()}, 422),  # outside the dispatcher's territories
        ({"location": {"lat": 89.9, "lon": 179.9}}, 422),  # outside every territory
        ({"customer_id": str(elsewhere.customer.id)}, 404),
        ({"address": ""}, 400),
    ]
    for change, status in site_cases:
        body = {
            "customer_id": str(area.customer.id),
            "address": "ул. Абая, 1",
            "location": area.point(),
        } | change
        response = await client.post("/api/v1/sites", json=body, headers=dispatcher.headers)
        assert response.status_code == status, (change, response.text)
        problem(response)
    assert (await build.count(Customer), await build.count(Site)) == (customers, sites)


async def test_technician_lifecycle_and_deactivation(client: Any, build: Builder) -> None:
    area = await build.area()
    admin = await build.person(Role.ADMIN)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    username = f"tech-{area.territory.code.lower()}"
    personnel_no = f"P-{area.territory.code.upper()}"[:20]
    created = await client.post(
        "/api/v1/technicians",
        json={
            "username": username,
            "password": "long-enough-password",
            "full_name": "Ахметов Нұрлан",
            "personnel_no": personnel_no,
            "phone": "+77051112233",
            "home_base": area.point(0.1, 0.1),
            "territory_ids": [str(area.territory.id)],
            "skills": ["repair", "fiber", "repair"],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    technician = created.json()
    assert technician["skills"] == ["fiber", "repair"]
    assert technician["personnel_no"] == personnel_no
    listed = await client.get(
        "/api/v1/technicians", params={"skill": "fiber"}, headers=supervisor.headers
    )
    assert technician["id"] in {t["id"] for t in listed.json()["items"]}

    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "long-enough-password"}
    )
    assert login.status_code == 200
    refresh_token = login.json()["refresh_token"]

    assert (
        await client.delete(f"/api/v1/technicians/{technician['id']}", headers=admin.headers)
    ).status_code == 204
    after = await client.get(f"/api/v1/technicians/{technician['id']}", headers=admin.headers)
    assert after.json()["active"] is False
    refused = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refused.status_code == 401
    relogin = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "long-enough-password"}
    )
    assert relogin.status_code == 401


async def test_technician_bad_input_writes_nothing(client: Any, build: Builder) -> None:
    area = await build.area()
    admin = await build.person(Role.ADMIN)
    users, technicians = await build.count(User), await build.count(Technician)
    base = {
        "username": "new-tech",
        "password": "long-enough-password",
        "full_name": "Петров Пётр",
        "personnel_no": "770001",
        "phone": "+79131234567",
        "home_base": area.point(),
        "territory_ids": [str(area.territory.id)],
    }
    cases = [
        ({"personnel_no": "abc 1"}, 400),
        ({"personnel_no": ""}, 400),
        ({"personnel_no": "1" * 21}, 400),
        ({"password": "short"}, 400),
        ({"phone": "+7 913 123"}, 400),
        ({"territory_ids": []}, 400),
        ({"territory_ids": ["6f1d0c5e-0000-4000-8000-000000000000"]}, 422),
        ({"skills": ["Not A Skill"]}, 400),
        ({"home_base": {"lat": 100, "lon": 0}}, 400),
    ]
    for change, status in cases:
        response = await client.post(
            "/api/v1/technicians", json=base | change, headers=admin.headers
        )
        assert response.status_code == status, (change, response.text)
        problem(response)
    assert (await build.count(User), await build.count(Technician)) == (users, technicians)


async def test_personnel_numbers_are_unique_and_patchable(client: Any, build: Builder) -> None:
    area = await build.area()
    admin = await build.person(Role.ADMIN)
    first = await build.person(Role.TECHNICIAN, area.territory)
    second = await build.person(Role.TECHNICIAN, area.territory)
    number = f"N-{area.territory.code}"
    url = "/api/v1/technicians/{}"
    changed = await client.patch(
        url.format(first.actor.technician_id), json={"personnel_no": number}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["personnel_no"] == number
    # Patching a technician to their own number again is no clash.
    again = await client.patch(
        url.format(first.actor.technician_id), json={"personnel_no": number}, headers=admin.headers
    )
    assert again.status_code == 200, again.text
    before = (
        await client.get(url.format(second.actor.technician_id), headers=admin.headers)
    ).json()
    clash = await client.patch(
        url.format(second.actor.technician_id), json={"personnel_no": number}, headers=admin.headers
    )
    assert clash.status_code == 409
    assert problem(clash)["code"] == "duplicate_personnel_no"
    after = (await client.get(url.format(second.actor.technician_id), headers=admin.headers)).json()
    assert after["personnel_no"] == before["personnel_no"] != number
    counts = (await build.count(User), await build.count(Technician))
    created = await client.post(
        "/api/v1/technicians",
        json={
            "username": f"dup-{area.territory.code.lower()}",
            "password": "long-enough-password",
            "full_name": "Петров Пётр",
            "personnel_no": number,
            "phone": "+79131234567",
            "home_base": area.point(),
            "territory_ids": [str(area.territory.id)],
        },
        headers=admin.headers,
    )
    assert created.status_code == 409
    assert problem(created)["code"] == "duplicate_personnel_no"
    assert (await build.count(User), await build.count(Technician)) == counts
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    forbidden = await client.patch(
        url.format(first.actor.technician_id),
        json={"personnel_no": "999999"},
        headers=supervisor.headers,
    )
    assert forbidden.status_code == 403
    problem(forbidden)
