"""The coordinator's workspace: owners, row actions, escalations by role, follow-ups; who may."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import Escalation, OrderOwner, WorkOrder, WorkOrderEvent
from tests.integration.builders import Area, Builder, Person
from tests.integration.staff.test_dispatch_pages import csrf, sign_in

pytestmark = pytest.mark.asyncio


@dataclass
class Scene:
    area: Area
    other: Area
    coordinator: Person
    colleague: Person
    supervisor: Person
    dispatcher: Person
    foreign_coordinator: Person
    late: WorkOrder
    foreign: WorkOrder


@pytest.fixture
async def web(client: Any) -> AsyncIterator[Any]:
    client.cookies.clear()
    follow = client.follow_redirects
    client.follow_redirects = False
    yield client
    client.follow_redirects = follow
    client.cookies.clear()


@pytest.fixture
async def scene(build: Builder) -> Scene:
    area = await build.area()
    other = await build.area()
    now = datetime.now(UTC)
    return Scene(
        area=area,
        other=other,
        coordinator=await build.person(Role.COORDINATOR, area.territory),
        colleague=await build.person(Role.COORDINATOR, area.territory),
        supervisor=await build.person(Role.SUPERVISOR, area.territory),
        dispatcher=await build.person(Role.DISPATCHER, area.territory),
        foreign_coordinator=await build.person(Role.COORDINATOR, other.territory),
        late=await build.order(area, control_deadline=now - timedelta(hours=5)),
        foreign=await build.order(other, control_deadline=now - timedelta(hours=5)),
    )


async def _escalation(build: Builder, order: WorkOrder, level: str, role: str) -> Escalation:
    escalation = Escalation(
        id=uuid.uuid4(),
        work_order_id=order.id,
        target="resolution",
        level=level,
        due_at=datetime.now(UTC) - timedelta(hours=1),
        recipient_role=role,
        recipient_ids=[],
    )
    async with build.sessionmaker() as session:
        session.add(escalation)
        await session.commit()
    return escalation


async def _get(build: Builder, model: Any, key: Any) -> Any:
    async with build.sessionmaker() as session:
        return await session.get(model, key)


async def _all(build: Builder, stmt: Any) -> list[Any]:
    async with build.sessionmaker() as session:
        return list((await session.scalars(stmt)).all())


async def test_anonymous_and_wrong_roles_are_refused(web: Any, scene: Scene) -> None:
    page = await web.get("/coordinate")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/staff/login?next=%2Fcoordinate")
    posted = await web.post(f"/coordinate/orders/{scene.late.id}/take", data={"csrf": "x"})
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/staff/login")
    await sign_in(web, scene.dispatcher)
    refused = await web.get("/coordinate")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    for action in ("take", "call", "hold", "hand-over"):
        answer = await web.post(f"/coordinate/orders/{scene.late.id}/{action}", data={"csrf": "x"})
        assert answer.status_code == 403, action
    assert (
        await web.post("/coordinate/escalations/acknowledge", data={"csrf": "x"})
    ).status_code == 403
    assert (
        await web.post(f"/coordinate/follow-ups/{uuid.uuid4()}/resolve", data={"csrf": "x"})
    ).status_code == 403


async def test_on_duty_owner_by_default_mine_view_and_take(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.coordinator)
    page = await web.get("/coordinate?view=all")
    assert page.status_code == 200, page.text
    assert scene.late.number in page.text
    assert scene.foreign.number not in page.text  # another territory
    # The on-duty coordinator is the first active one by name.
    duty = min((scene.coordinator, scene.colleague), key=lambda p: (p.user.full_name, p.user.id))
    assert duty.user.full_name in page.text
    token = csrf(page.text)
    # No CSRF: nothing written.
    refused = await web.post(f"/coordinate/orders/{scene.late.id}/take", data={"csrf": "bad"})
    assert refused.status_code == 403
    assert await _get(build, OrderOwner, scene.late.id) is None
    taken = await web.post(
        f"/coordinate/orders/{scene.late.id}/take", data={"csrf": token, "back": "/coordinate"}
    )
    assert taken.status_code == 303, taken.text
    assert taken.headers["location"] == "/coordinate?notice=taken"
    mine = await web.get("/coordinate")
    assert scene.late.number in mine.text
    events = await _all(
        build, select(WorkOrderEvent.kind).where(WorkOrderEvent.work_order_id == scene.late.id)
    )
    assert "work_order.owner_changed" in events


async def test_other_territory_order_is_not_found(web: Any, scene: Scene, build: Builder) -> None:
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    for action in ("take", "call", "hold"):
        answer = await web.post(
            f"/coordinate/orders/{scene.foreign.id}/{action}",
            data={"csrf": token, "outcome": "reached", "reason": "x"},
        )
        assert answer.status_code == 404, action
    assert await _get(build, OrderOwner, scene.foreign.id) is None


async def test_call_is_recorded_and_bad_input_writes_nothing(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    bad = await web.post(
        f"/coordinate/orders/{scene.late.id}/call", data={"csrf": token, "outcome": "shouted"}
    )
    assert bad.status_code == 422
    past = await web.post(
        f"/coordinate/orders/{scene.late.id}/call",
        data={"csrf": token, "outcome": "reached", "promised": "2000-01-01"},
    )
    assert past.status_code == 422
    contacted = select(WorkOrderEvent).where(
        WorkOrderEvent.work_order_id == scene.late.id, WorkOrderEvent.kind == "customer.contacted"
    )
    assert await _all(build, contacted) == []
    promised = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    ok = await web.post(
        f"/coordinate/orders/{scene.late.id}/call",
        data={"csrf": token, "outcome": "reached", "promised": promised, "back": "/coordinate"},
    )
    assert ok.status_code == 303
    [event] = await _all(build, contacted)
    assert event.data["outcome"] == "reached"
    assert event.data["promised_date"] == promised


async def test_hold_needs_a_reason(web: Any, scene: Scene, build: Builder) -> None:
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    empty = await web.post(
        f"/coordinate/orders/{scene.late.id}/hold",
        data={"csrf": token, "reason": " ", "version": str(scene.late.version)},
    )
    assert empty.status_code == 422
    held = await web.post(
        f"/coordinate/orders/{scene.late.id}/hold",
        data={"csrf": token, "reason": "Parts ordered", "version": str(scene.late.version)},
    )
    assert held.status_code == 303, held.text
    order = await _get(build, WorkOrder, scene.late.id)
    assert order.status == "on_hold"


async def test_hand_over_needs_a_note_and_a_territory_colleague(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    url = f"/coordinate/orders/{scene.late.id}/hand-over"
    no_note = await web.post(url, data={"csrf": token, "to": str(scene.colleague.user.id)})
    assert no_note.status_code == 422
    outsider = await web.post(
        url, data={"csrf": token, "to": str(scene.foreign_coordinator.user.id), "note": "x"}
    )
    assert outsider.status_code == 422
    assert await _get(build, OrderOwner, scene.late.id) is None
    ok = await web.post(
        url, data={"csrf": token, "to": str(scene.colleague.user.id), "note": "You know them"}
    )
    assert ok.status_code == 303
    owner = await _get(build, OrderOwner, scene.late.id)
    assert owner is not None
    assert owner.user_id == scene.colleague.user.id


async def test_escalations_by_role_and_bulk_acknowledge(
    web: Any, scene: Scene, build: Builder
) -> None:
    breach = await _escalation(build, scene.late, "breach", "coordinator")
    head = await _escalation(build, scene.late, "head", "supervisor")
    other = await build.order(scene.area, control_deadline=datetime.now(UTC) - timedelta(hours=9))
    breach2 = await _escalation(build, other, "breach", "coordinator")
    await sign_in(web, scene.coordinator)
    page = await web.get("/coordinate")
    assert "2 unacknowledged on 2 orders" in page.text
    everyone = await web.get("/coordinate?esc=all")
    assert "3 unacknowledged on 2 orders" in everyone.text
    token = csrf(page.text)
    # The supervisors' escalation is refused, and with it the whole batch.
    refused = await web.post(
        "/coordinate/escalations/acknowledge",
        data={"csrf": token, "comment": "Called", "id": [str(head.id), str(breach2.id)]},
    )
    assert refused.status_code == 403
    assert (await _get(build, Escalation, breach2.id)).acknowledged_at is None
    no_comment = await web.post(
        "/coordinate/escalations/acknowledge",
        data={"csrf": token, "comment": " ", "id": [str(breach.id)]},
    )
    assert no_comment.status_code == 422
    ok = await web.post(
        "/coordinate/escalations/acknowledge",
        data={
            "csrf": token,
            "comment": "Called both customers",
            "id": [str(breach.id), str(breach2.id)],
            "back": "/coordinate",
        },
    )
    assert ok.status_code == 303, ok.text
    assert ok.headers["location"] == "/coordinate?notice=acknowledged&n=2"
    breach, breach2, head = [await _get(build, Escalation, e.id) for e in (breach, breach2, head)]
    assert breach.ack_comment == breach2.ack_comment == "Called both customers"
    assert head.acknowledged_at is None
