"""Work orders over HTTP against the real database."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.common.actor import Role
from service.db.models import AuditEntry, Visit, WorkOrder
from tests.conftest import problem
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


def _new_order(area: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "installation",
        "customer_id": str(area.customer.id),
        "site_id": str(area.site.id),
        "description": "Подключение GPON, роутер",
        "requested_services": ["Интернет 100 Мбит/с"],
        "equipment": [{"name": "ONT", "model": "HG8245H", "serial": "48575443ABCD", "unit": "шт"}],
        **extra,
    }


async def test_create_get_and_audit(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    deadline = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    response = await client.post(
        "/api/v1/work-orders",
        json=_new_order(area, control_deadline=deadline, priority="high"),
        headers=dispatcher.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"WO-\d{4}-\d{6}", body["number"])
    assert body["status"] == "new"
    assert body["territory_id"] == str(area.territory.id)
    assert body["required_skills"] == ["installation"]
    assert body["contact_phones"] == ["+77011234567"]  # defaults to the customer's phones
    assert body["equipment"][0]["serial"] == "48575443ABCD"
    assert response.headers["etag"] == '"v1"'

    fetched = await client.get(f"/api/v1/work-orders/{body['id']}", headers=dispatcher.headers)
    assert fetched.status_code == 200
    assert fetched.json()["number"] == body["number"]
    assert fetched.headers["etag"] == '"v1"'
    assert (
        await build.count(
            AuditEntry,
            AuditEntry.entity_id == body["id"],
            AuditEntry.action == "work_order.created",
        )
        == 1
    )


async def test_patch_requires_current_if_match(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await build.order(area)
    url = f"/api/v1/work-orders/{order.id}"

    missing = await client.patch(url, json={"priority": "urgent"}, headers=dispatcher.headers)
    assert missing.status_code == 428
    problem(missing)

    ok = await client.patch(
        url, json={"priority": "urgent"}, headers={**dispatcher.headers, "If-Match": '"v1"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["priority"] == "urgent"
    assert ok.headers["etag"] == '"v2"'

    stale = await client.patch(
        url, json={"priority": "low"}, headers={**dispatcher.headers, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    problem(stale)
    after = await client.get(url, headers=dispatcher.headers)
    assert after.json()["priority"] == "urgent"
    assert after.json()["version"] == 2


async def test_concurrent_patches_one_wins(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await build.order(area)
    url = f"/api/v1/work-orders/{order.id}"
    headers = {**dispatcher.headers, "If-Match": '"v1"'}
    results = await asyncio.gather(
        client.patch(url, json={"description": "A"}, headers=headers),
        client.patch(url, json={"description": "B"}, headers=headers),
    )
    assert sorted(r.status_code for r in results) == [200, 412]


async def test_hold_resume_and_forbidden_transition(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await build.order(area)
    url = f"/api/v1/work-orders/{order.id}"

    no_reason = await client.patch(
        url, json={"status": "on_hold"}, headers={**dispatcher.headers, "If-Match": "*"}
    )
    assert no_reason.status_code == 422
    assert problem(no_reason)["errors"][0]["field"] == "hold_reason"

    held = await client.patch(
        url,
        json={"status": "on_hold", "hold_reason": "Ожидание оборудования"},
        headers={**dispatcher.headers, "If-Match": "*"},
    )
    assert held.json()["status"] == "on_hold"
    assert held.json()["hold_reason"] == "Ожидание оборудования"

    resumed = await client.patch(
        url, json={"status": "new"}, headers={**dispatcher.headers, "If-Match": "*"}
    )
    assert resumed.json()["status"] == "new"
    assert resumed.json()["hold_reason"] is None

    closed = await client.patch(
        url, json={"status": "closed"}, headers={**dispatcher.headers, "If-Match": "*"}
    )
    assert closed.status_code == 409
    assert problem(closed)["code"] == "invalid_transition"
    assert (await client.get(url, headers=dispatcher.headers)).json()["status"] == "new"


async def test_resume_with_planned_visit_returns_to_scheduled(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.person(Role.TECHNICIAN, area.territory)
    order = await build.order(area, status="on_hold", hold_reason="Ждём ключи")
    assert tech.technician is not None
    await build.visit(order, tech.technician)
    resumed = await client.patch(
        f"/api/v1/work-orders/{order.id}",
        json={"status": "new"},
        headers={**dispatcher.headers, "If-Match": "*"},
    )
    assert resumed.json()["status"] == "scheduled"


async def test_cancel_needs_reason_and_cancels_planned_visits(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    order = await build.order(area, status="scheduled")
    visit = await build.visit(order, tech.technician)
    url = f"/api/v1/work-orders/{order.id}/cancel"

    empty = await client.post(url, json={}, headers=dispatcher.headers)
    assert empty.status_code == 400
    problem(empty)
    assert (await client.get(f"/api/v1/work-orders/{order.id}", headers=dispatcher.headers)).json()[
        "status"
    ] == "scheduled"

    cancelled = await client.post(
        url, json={"reason": "Клиент отказался"}, headers=dispatcher.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Клиент отказался"
    assert await build.count(Visit, Visit.id == visit.id, Visit.status == "cancelled") == 1

    again = await client.post(url, json={"reason": "Повторно"}, headers=dispatcher.headers)
    assert again.status_code == 409


async def test_list_filters_and_keyset_pages(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    now = datetime.now(UTC)
    orders = [
        await build.order(
            area,
            description=f"Заявка номер {i}",
            created_at=now - timedelta(minutes=i),
            control_deadline=now + timedelta(hours=i - 3),
        )
        for i in range(7)
    ]
    await build.order(area, status="closed", type="meter_check", description="Поверка счётчика")
    await build.visit(orders[2], tech.technician)
    base = {"territory_id": str(area.territory.id)}

    seen: list[str] = []
    cursor = None
    while True:
        params = {**base, "limit": 3, "status": "new"} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get("/api/v1/work-orders", params=params, headers=dispatcher.headers)
        ).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(o.id) for o in orders]  # newest first, no gaps, no repeats

    def ids(response: Any) -> set[str]:
        return {item["id"] for item in response.json()["items"]}

    typed = await client.get(
        "/api/v1/work-orders", params={**base, "type": "meter_check"}, headers=dispatcher.headers
    )
    assert len(ids(typed)) == 1
    overdue = await client.get(
        "/api/v1/work-orders",
        params={**base, "deadline_before": now.isoformat()},
        headers=dispatcher.headers,
    )
    assert ids(overdue) == {str(o.id) for o in orders[:3]}
    assert all(item["overdue"] for item in overdue.json()["items"])
    by_tech = await client.get(
        "/api/v1/work-orders",
        params={**base, "technician_id": str(tech.technician.id)},
        headers=dispatcher.headers,
    )
    assert ids(by_tech) == {str(orders[2].id)}
    text = await client.get(
        "/api/v1/work-orders", params={**base, "q": "номер 4"}, headers=dispatcher.headers
    )
    assert ids(text) == {str(orders[4].id)}
    number = await client.get(
        "/api/v1/work-orders", params={**base, "q": orders[5].number}, headers=dispatcher.headers
    )
    assert str(orders[5].id) in ids(number)


async def test_bad_input_is_refused_and_writes_nothing(client: Any, build: Builder) -> None:
    area = await build.area()
    other = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory, other.territory)
    before = await build.count(WorkOrder)
    audit_before = await build.count(AuditEntry)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases: list[tuple[Any, int]] = [
        (b"{not json", 400),
        (_new_order(area, unknown_field=1), 400),
        (_new_order(area, type="teleport"), 400),
        (_new_order(area, priority=5), 400),
        (_new_order(area, contact_phones=["8 701 123 45 67"]), 400),
        (_new_order(area, control_deadline="2030-01-01T10:00:00"), 400),  # no offset
        (_new_order(area, control_deadline=past), 422),
        (_new_order(area, site_id=str(other.site.id)), 422),  # another customer's site
        (_new_order(area, customer_id="00000000-0000-0000-0000-000000000000"), 404),
        (_new_order(area, equipment=[{"name": "ONT", "quantity": 0}]), 400),
    ]
    for body, status in cases:
        kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
        response = await client.post("/api/v1/work-orders", headers=dispatcher.headers, **kwargs)
        assert response.status_code == status, (body, response.text)
        problem(response)
    huge = await client.post(
        "/api/v1/work-orders",
        json=_new_order(area, description="x" * (1024 * 1024 + 10)),
        headers=dispatcher.headers,
    )
    assert huge.status_code == 413
    problem(huge)
    assert await build.count(WorkOrder) == before
    assert await build.count(AuditEntry) == audit_before


async def test_unknown_id_and_bad_filters(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    missing = await client.get(
        "/api/v1/work-orders/7d1f58b2-1f0c-4bb6-9a5b-1d2c3e4f5a6b", headers=dispatcher.headers
    )
    assert missing.status_code == 404
    problem(missing)
    assert (
        await client.get("/api/v1/work-orders/not-a-uuid", headers=dispatcher.headers)
    ).status_code == 404
    for params in ({"limit": 0}, {"limit": 201}, {"status": "lost"}, {"cursor": "%%%"}):
        response = await client.get(
            "/api/v1/work-orders", params=params, headers=dispatcher.headers
        )
        assert response.status_code in (400, 422), (params, response.text)
        problem(response)


async def test_technician_sees_only_orders_with_their_visits(client: Any, build: Builder) -> None:
    area = await build.area()
    mine = await build.order(area)
    theirs = await build.order(area)
    cancelled = await build.order(area)
    me = await build.person(Role.TECHNICIAN, area.territory)
    colleague = await build.person(Role.TECHNICIAN, area.territory)
    assert me.technician is not None
    assert colleague.technician is not None
    await build.visit(mine, me.technician)
    await build.visit(theirs, colleague.technician)
    await build.visit(
        cancelled, me.technician, start=datetime.now(UTC) + timedelta(days=3), status="cancelled"
    )
    listed = await client.get("/api/v1/work-orders", headers=me.headers)
    assert [item["id"] for item in listed.json()["items"]] == [str(mine.id)]
    assert (
        await client.get(f"/api/v1/work-orders/{theirs.id}", headers=me.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/work-orders/{cancelled.id}", headers=me.headers)
    ).status_code == 404


async def test_nul_characters_are_refused_before_the_database(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    before = await build.count(WorkOrder)
    body = _new_order(area, description="Заявка\u0000скрытая")
    response = await client.post("/api/v1/work-orders", json=body, headers=dispatcher.headers)
    assert response.status_code == 400
    assert "NUL" in problem(response)["detail"]
    search = await client.get(
        "/api/v1/work-orders", params={"q": "a\x00b"}, headers=dispatcher.headers
    )
    assert search.status_code == 400
    login = await client.post("/api/v1/auth/login", json={"username": "x\u0000", "password": "y"})
    assert login.status_code == 400
    assert await build.count(WorkOrder) == before
