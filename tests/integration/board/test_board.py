"""The overdue board against a hand-built fixture: buckets, reasons, owners, filters, pages, CSV."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from service.common.actor import Role
from service.db.models import SlaClock, Technician, User, WorkOrder
from tests.conftest import problem
from tests.integration.builders import Area, Builder, Person
from tests.integration.sla.helpers import add_event

pytestmark = pytest.mark.asyncio

BOARD = "/api/v1/coordination/overdue"


@dataclass
class Scene:
    area: Area
    other: Area
    coordinator: Person
    dispatcher: Person
    tech: Person
    orders: dict[str, WorkOrder]
    now: datetime


@pytest.fixture
async def scene(build: Builder) -> Scene:
    area = await build.area()
    other = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    now = datetime.now(UTC)

    def hours(n: float) -> datetime:
        return now + timedelta(hours=n)

    who = dispatcher.user.id
    orders = {
        "due_soon": await build.order(
            area, control_deadline=hours(1), priority="urgent", created_by=who
        ),
        "late_1h": await build.order(area, control_deadline=hours(-1), status="scheduled"),
        "late_5h": await build.order(
            area,
            control_deadline=hours(-5),
            status="on_hold",
            hold_reason="Ожидание оборудования",
        ),
        "late_30h": await build.order(area, control_deadline=hours(-30), type="installation"),
        "late_4d": await build.order(area, control_deadline=hours(-96), status="in_progress"),
        "later": await build.order(area, control_deadline=hours(3)),
        "closed": await build.order(area, control_deadline=hours(-2), status="closed"),
        "no_deadline": await build.order(area),
        "elsewhere": await build.order(other, control_deadline=hours(-1)),
    }
    # A live visit whose window ended an hour ago, nobody arrived.
    await build.visit(orders["late_1h"], tech.technician, start=hours(-3), hours=2)
    late = orders["late_1h"].id
    await add_event(build, late, "visit.booked", hours(-20), actor=dispatcher.actor)
    await add_event(build, late, "visit.rescheduled", hours(-10), actor=dispatcher.actor)
    await add_event(build, late, "customer.contacted", hours(-2), actor=coordinator.actor)
    await add_event(build, late, "visit.en_route", hours(-1.5), actor=tech.actor)
    async with build.sessionmaker() as session:
        session.add(
            SlaClock(
                work_order_id=orders["late_4d"].id,
                target="resolution",
                status="paused",
                measure="business",
                target_minutes=600,
                started_at=hours(-200),
                due_at=hours(-96),
                paused_since=hours(-90),
                paused_minutes=0,
                reason="waiting_for_parts",
                computed_at=now,
            )
        )
        # Names a spreadsheet would misread: a formula, a comma and quotes.
        await session.execute(
            update(User).where(User.id == coordinator.user.id).values(full_name="=Ким Ольга")
        )
        await session.execute(
            update(Technician)
            .where(Technician.id == tech.technician.id)
            .values(full_name='Серікбаев, "Қанат"')
        )
        await session.commit()
    return Scene(area, other, coordinator, dispatcher, tech, orders, now)


def _ids(scene: Scene, *names: str) -> list[str]:
    return [str(scene.orders[n].id) for n in names]


async def _board(client: Any, who: Person, **params: Any) -> dict[str, Any]:
    response = await client.get(BOARD, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_buckets_order_and_details(client: Any, scene: Scene) -> None:
    board = await _board(client, scene.coordinator)
    items = board["items"]
    assert [i["work_order_id"] for i in items] == _ids(
        scene, "late_4d", "late_30h", "late_5h", "late_1h", "due_soon"
    )
    assert [i["bucket"] for i in items] == [
        "overdue_3d_plus",
        "overdue_1_3d",
        "overdue_4_24h",
        "overdue_0_4h",
        "due_2h",
    ]
    assert board["counts"] == {
        "due_2h": 1,
        "overdue_0_4h": 1,
        "overdue_4_24h": 1,
        "overdue_1_3d": 1,
        "overdue_3d_plus": 1,
        "total": 5,
    }
    assert board["next_cursor"] is None
    by_name = dict(
        zip(["late_4d", "late_30h", "late_5h", "late_1h", "due_soon"], items, strict=True)
    )
    assert by_name["late_4d"]["reason"] == "waiting_for_parts"
    assert by_name["late_4d"]["clock_status"] == "paused"
    assert by_name["late_30h"]["reason"] == "not_scheduled"
    assert by_name["late_5h"]["reason"] == "on_hold"
    assert by_name["late_5h"]["reason_detail"] == "Ожидание оборудования"
    late = by_name["late_1h"]
    assert late["reason"] == "visit_missed"
    assert 59 <= late["overdue_minutes"] <= 61
    assert -61 <= by_name["due_soon"]["overdue_minutes"] <= -59
    assert late["last_event"]["kind"] == "visit.en_route"
    assert late["owner"] == {"id": str(scene.coordinator.user.id), "full_name": "=Ким Ольга"}
    assert late["technician"]["id"] == str(scene.tech.technician.id)  # type: ignore[union-attr]
    assert late["customer_contacts"] == 3
    soon = by_name["due_soon"]
    assert soon["owner"]["id"] == str(scene.dispatcher.user.id)  # whoever registered it
    assert soon["last_event"] is None
    assert soon["technician"] is None
    assert soon["customer_contacts"] == 0


async def test_filters(client: Any, scene: Scene) -> None:
    async def ids(**params: Any) -> list[str]:
        return [
            i["work_order_id"] for i in (await _board(client, scene.coordinator, **params))["items"]
        ]

    assert await ids(bucket="overdue_0_4h") == _ids(scene, "late_1h")
    assert await ids(bucket=["due_2h", "overdue_3d_plus"]) == _ids(scene, "late_4d", "due_soon")
    assert await ids(type="installation") == _ids(scene, "late_30h")
    assert await ids(priority="urgent") == _ids(scene, "due_soon")
    assert await ids(technician=str(scene.tech.technician.id)) == _ids(scene, "late_1h")  # type: ignore[union-attr]
    assert await ids(territory=str(scene.area.territory.id)) == _ids(
        scene, "late_4d", "late_30h", "late_5h", "late_1h", "due_soon"
    )
    # Another territory's orders are filtered out, asked for or not.
    assert await ids(territory=str(scene.other.territory.id)) == []
    counted = await _board(client, scene.coordinator, type="installation", bucket="due_2h")
    assert counted["items"] == []
    assert counted["counts"]["overdue_1_3d"] == 1  # counts ignore the bucket filter
    assert counted["counts"]["total"] == 1
    outsider = await _board(client, scene.coordinator, territory=str(scene.other.territory.id))
    assert outsider["counts"]["total"] == 0


async def test_keyset_pages(client: Any, scene: Scene, build: Builder) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await _board(client, scene.coordinator, **params)
        assert len(page["items"]) <= 2
        seen += [i["work_order_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == _ids(scene, "late_4d", "late_30h", "late_5h", "late_1h", "due_soon")
    bad = await client.get(
        BOARD, params={"cursor": "not-a-cursor"}, headers=scene.coordinator.headers
    )
    assert bad.status_code == 422
    problem(bad)
    # An empty cursor is the first page (it chose the keyset statement without its values).
    empty = await _board(client, scene.coordinator, limit=2, cursor="")
    assert [i["work_order_id"] for i in empty["items"]] == seen[:2]
    unknown = await client.get(BOARD, params={"bucket": "later"}, headers=scene.coordinator.headers)
    assert unknown.status_code == 400
    problem(unknown)


async def test_csv_export(client: Any, scene: Scene) -> None:
    for request in (
        {"params": {"format": "csv"}, "headers": scene.coordinator.headers},
        {"headers": {**scene.coordinator.headers, "Accept": "text/csv"}},
    ):
        response = await client.get(BOARD, **request)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [r["number"] for r in rows] == [
            scene.orders[n].number
            for n in ("late_4d", "late_30h", "late_5h", "late_1h", "due_soon")
        ]
        late = rows[3]
        assert late["technician"] == 'Серікбаев, "Қанат"'  # quoted, survives the round trip
        assert late["owner"] == "'=Ким Ольга"  # not run as a formula
        assert late["bucket"] == "overdue_0_4h"
        assert late["time_zone"] == "Asia/Almaty"
        assert late["customer_contacts"] == "3"
        local_deadline = scene.orders["late_1h"].control_deadline
        assert local_deadline is not None
        assert late["control_deadline"] == local_deadline.astimezone(
            ZoneInfo("Asia/Almaty")
        ).strftime("%Y-%m-%d %H:%M")
    json_anyway = await client.get(
        BOARD, headers={**scene.coordinator.headers, "Accept": "application/json"}
    )
    assert json_anyway.headers["content-type"].startswith("application/json")


async def test_admin_sees_every_territory(client: Any, scene: Scene, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    board = await _board(client, admin, territory=str(scene.other.territory.id))
    assert [i["work_order_id"] for i in board["items"]] == _ids(scene, "elsewhere")
    assert uuid.UUID(board["items"][0]["territory_id"]) == scene.other.territory.id
