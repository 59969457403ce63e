"""The coordinator's workspace: owners, row actions, escalations by role, follow-ups; who may."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import (
    Escalation,
    FollowUpTask,
    Incident,
    OrderOwner,
    OutboxMessage,
    Rating,
    WorkOrder,
    WorkOrderEvent,
)
from tests.integration.builders import Area, Builder, Person
from tests.integration.staff.forms import csrf, sign_in

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


async def _follow_up(build: Builder, area: Area, order: WorkOrder, score: int) -> FollowUpTask:
    async with build.sessionmaker() as session:
        rating = Rating(
            work_order_id=order.id, territory_id=area.territory.id, score=score, comment="Late"
        )
        session.add(rating)
        await session.flush()
        task = FollowUpTask(
            work_order_id=order.id,
            rating_id=rating.id,
            territory_id=area.territory.id,
            reasons=["low_score"],
            score=score,
            due_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.add(task)
        await session.commit()
    return task


async def _incident(build: Builder, area: Area, order: WorkOrder) -> Incident:
    tech = await build.technician_at(area, 0.4, 0.4)
    assert tech.technician is not None
    visit = await build.visit(order, tech.technician, status="aborted_safety")
    async with build.sessionmaker() as session:
        incident = Incident(
            visit_id=visit.id,
            kind="safety",
            outcome="aborted_safety",
            work_order_id=order.id,
            territory_id=area.territory.id,
            technician_id=tech.technician.id,
            occurred_at=datetime.now(UTC) - timedelta(minutes=30),
            reason="The customer shouted",
            notified_role="supervisor",
        )
        session.add(incident)
        await session.commit()
    return incident


async def _get(build: Builder, model: Any, key: Any) -> Any:
    async with build.sessionmaker() as session:
        return await session.get(model, key)


async def _all(build: Builder, stmt: Any) -> list[Any]:
    async with build.sessionmaker() as session:
        return list((await session.scalars(stmt)).all())


ORDER_ACTIONS = ("take", "call", "hold", "hand-over", "escalate")


def _actions(scene: Scene) -> list[str]:
    """Every form the workspace posts to."""
    return [
        *(f"/coordinate/orders/{scene.late.id}/{action}" for action in ORDER_ACTIONS),
        "/coordinate/escalations/acknowledge",
        f"/coordinate/follow-ups/{uuid.uuid4()}/resolve",
        f"/coordinate/incidents/{uuid.uuid4()}/acknowledge",
    ]


async def test_anonymous_and_wrong_roles_are_refused(
    web: Any, scene: Scene, build: Builder
) -> None:
    page = await web.get("/coordinate")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/staff/login?next=%2Fcoordinate")
    for url in _actions(scene):
        posted = await web.post(url, data={"csrf": "x", "note": "n", "reason": "r"})
        assert posted.status_code == 303, url
        assert posted.headers["location"].startswith("/staff/login"), url
    # A technician gets no staff session at all: still sent to the sign-in.
    technician = await build.person(Role.TECHNICIAN, scene.area.territory)
    await sign_in(web, technician)
    assert (await web.get("/coordinate")).status_code == 303
    await sign_in(web, scene.dispatcher)
    refused = await web.get("/coordinate")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    for url in _actions(scene):
        answer = await web.post(url, data={"csrf": "x", "note": "n", "reason": "r"})
        assert answer.status_code == 403, url
    assert await _get(build, OrderOwner, scene.late.id) is None
    assert (
        await _all(build, select(Escalation).where(Escalation.work_order_id == scene.late.id)) == []
    )


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
    for action in ORDER_ACTIONS:
        answer = await web.post(
            f"/coordinate/orders/{scene.foreign.id}/{action}",
            data={
                "csrf": token,
                "outcome": "reached",
                "reason": "x",
                "note": "x",
                "to": str(scene.foreign_coordinator.user.id),
            },
        )
        assert answer.status_code == 404, action
    assert await _get(build, OrderOwner, scene.foreign.id) is None
    escalations = select(Escalation).where(Escalation.work_order_id == scene.foreign.id)
    assert await _all(build, escalations) == []
    # Follow-ups, incidents and escalations of another territory are not there either.
    task = await _follow_up(build, scene.other, scene.foreign, score=2)
    incident = await _incident(build, scene.other, scene.foreign)
    foreign_escalation = await _escalation(build, scene.foreign, "breach", "coordinator")
    for url, data in (
        (f"/coordinate/follow-ups/{task.id}/resolve", {"comment": "Done"}),
        (f"/coordinate/incidents/{incident.id}/acknowledge", {"comment": "Done"}),
        ("/coordinate/escalations/acknowledge", {"comment": "Done", "id": foreign_escalation.id}),
    ):
        answer = await web.post(url, data={"csrf": token, **data})
        assert answer.status_code == 404, url
    assert (await _get(build, FollowUpTask, task.id)).status == "open"
    assert (await _get(build, Incident, incident.id)).acknowledged_at is None
    assert (await _get(build, Escalation, foreign_escalation.id)).acknowledged_at is None


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
    # The mixed order's box ticks only the coordinators' breach, never the supervisors' head.
    assert f'name="id" value="{breach.id}"' in everyone.text
    assert "1 of them for another role, left to it" in everyone.text
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


async def test_api_refuses_another_roles_escalation(
    client: Any, scene: Scene, build: Builder
) -> None:
    head = await _escalation(build, scene.late, "head", "supervisor")
    url = f"/api/v1/coordination/escalations/{head.id}/acknowledge"
    refused = await client.post(url, json={"comment": "Seen"}, headers=scene.coordinator.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "not_addressed_to_you"
    assert (await _get(build, Escalation, head.id)).acknowledged_at is None
    ok = await client.post(url, json={"comment": "Seen"}, headers=scene.supervisor.headers)
    assert ok.status_code == 200, ok.text


async def test_acknowledge_all_on_the_page_leaves_other_roles_alone(
    web: Any, scene: Scene, build: Builder
) -> None:
    breach = await _escalation(build, scene.late, "breach", "coordinator")
    other = await build.order(scene.area, control_deadline=datetime.now(UTC) - timedelta(hours=9))
    head = await _escalation(build, other, "head", "supervisor")
    await sign_in(web, scene.coordinator)
    page = await web.get("/coordinate?esc=all")
    assert "Acknowledge all 1 on this page" in page.text
    ok = await web.post(
        "/coordinate/escalations/acknowledge",
        data={
            "csrf": csrf(page.text),
            "comment": "Morning round",
            "scope": "page",
            "page_id": [str(breach.id)],
            "back": "/coordinate?esc=all",
        },
    )
    assert ok.status_code == 303, ok.text
    assert ok.headers["location"] == "/coordinate?esc=all&notice=acknowledged&n=1"
    assert (await _get(build, Escalation, breach.id)).ack_comment == "Morning round"
    assert (await _get(build, Escalation, head.id)).acknowledged_at is None


async def test_escalate_by_hand_to_the_supervisors_once(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    url = f"/coordinate/orders/{scene.late.id}/escalate"
    mine = select(Escalation).where(Escalation.work_order_id == scene.late.id)
    blank = await web.post(url, data={"csrf": token, "note": "  "})
    assert blank.status_code == 422
    assert "Say why" not in blank.text  # the reader's sentence, not the service's
    assert "Write a note." in blank.text
    assert await _all(build, mine) == []
    ok = await web.post(
        url, data={"csrf": token, "note": "Customer threatens a complaint", "back": "/coordinate"}
    )
    assert ok.status_code == 303, ok.text
    assert ok.headers["location"] == "/coordinate?notice=escalated"
    [escalation] = await _all(build, mine)
    assert (escalation.level, escalation.recipient_role) == ("head", "supervisor")
    assert escalation.recipient_ids == [scene.supervisor.user.id]
    told = await _all(
        build,
        select(OutboxMessage.recipient_id).where(
            OutboxMessage.event == "escalation.head",
            OutboxMessage.recipient_id == scene.supervisor.user.id,
        ),
    )
    assert told == [scene.supervisor.user.id]
    events = await _all(
        build,
        select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == scene.late.id,
            WorkOrderEvent.kind == "work_order.escalated",
        ),
    )
    assert [e.data["note"] for e in events] == ["Customer threatens a complaint"]
    again = await web.post(url, data={"csrf": token, "note": "Again"})
    assert again.status_code == 409
    assert "already escalated" in again.text
    assert len(await _all(build, mine)) == 1
    # The coordinator cannot acknowledge it: it is the supervisors'.
    page = await web.get("/coordinate?esc=all")
    assert f'id="esc-{scene.late.id}"' not in page.text


async def test_follow_up_and_incident_resolved_in_place(
    web: Any, scene: Scene, build: Builder
) -> None:
    task = await _follow_up(build, scene.area, scene.late, score=2)
    incident = await _incident(build, scene.area, scene.late)
    await sign_in(web, scene.coordinator)
    page = await web.get("/coordinate")
    duty = min((scene.coordinator, scene.colleague), key=lambda p: (p.user.full_name, p.user.id))
    follow_up = page.text.split(f'data-follow-up="{scene.late.number}"')[1].split("</li>")[0]
    assert "Rating 2/5" in follow_up
    assert f"{duty.user.full_name} (on duty)" in follow_up
    assert "UTC+05" in follow_up  # due time in the territory's zone, offset named
    assert "Follow-ups · 1" in page.text
    assert "Safety incidents · 1" in page.text
    token = csrf(page.text)
    blank = await web.post(
        f"/coordinate/follow-ups/{task.id}/resolve", data={"csrf": token, "comment": " "}
    )
    assert blank.status_code == 422
    assert (await _get(build, FollowUpTask, task.id)).status == "open"
    resolved = await web.post(
        f"/coordinate/follow-ups/{task.id}/resolve",
        data={"csrf": token, "comment": "Apologised", "back": "/coordinate"},
    )
    assert resolved.status_code == 303
    assert (await _get(build, FollowUpTask, task.id)).resolution == "Apologised"
    url = f"/coordinate/incidents/{incident.id}/acknowledge"
    blank = await web.post(url, data={"csrf": token, "comment": ""})
    assert blank.status_code == 422
    assert (await _get(build, Incident, incident.id)).acknowledged_at is None
    done = await web.post(url, data={"csrf": token, "comment": "Supervisor called the technician"})
    assert done.status_code == 303
    assert done.headers["location"] == "/coordinate?notice=incident"
    assert (await _get(build, Incident, incident.id)).ack_comment == (
        "Supervisor called the technician"
    )
    after = await web.get("/coordinate?notice=incident")
    assert "The incident is acknowledged." in after.text
    assert "No unacknowledged incidents." in after.text
    assert "No open follow-ups." in after.text


async def test_a_refused_dialog_keeps_what_was_typed_next_to_the_reason(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    await web.post(f"/coordinate/orders/{scene.late.id}/take", data={"csrf": token})
    events = await build.count(WorkOrderEvent)
    refused = await web.post(
        f"/coordinate/orders/{scene.late.id}/hand-over",
        data={
            "csrf": token,
            "to": str(scene.foreign_coordinator.user.id),
            "note": "Knows the building <b>well</b>",
        },
    )
    assert refused.status_code == 422
    html = refused.text
    dialog = re.search(r'<details class="pop" open>.*?</details>', html, re.DOTALL)
    assert dialog
    assert f'action="/coordinate/orders/{scene.late.id}/hand-over"' in dialog[0]
    assert 'value="Knows the building &lt;b&gt;well&lt;/b&gt;"' in dialog[0]
    assert f'aria-describedby="to-err-{scene.late.id}"' in dialog[0]
    assert f'id="to-err-{scene.late.id}"' in dialog[0]
    assert "Choose a coordinator or supervisor of the order&#39;s territory." in dialog[0]
    assert 'class="error"' not in html  # said in the dialog, not above the list
    escalate = await web.post(
        f"/coordinate/orders/{scene.late.id}/escalate", data={"csrf": token, "note": "   "}
    )
    assert escalate.status_code == 422
    assert f'id="esc-note-err-{scene.late.id}"' in escalate.text
    assert "Write a note." in escalate.text
    owner = await _get(build, OrderOwner, scene.late.id)
    assert owner.user_id == scene.coordinator.user.id
    assert await build.count(WorkOrderEvent) == events


async def test_a_refusal_for_a_dialog_the_row_no_longer_offers_is_said_above_the_list(
    web: Any, scene: Scene, build: Builder
) -> None:
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, scene.late.id)
        order.status = "on_hold"
        order.hold_reason = "Parts"
        await session.commit()
    await sign_in(web, scene.coordinator)
    token = csrf((await web.get("/coordinate")).text)
    response = await web.post(
        f"/coordinate/orders/{scene.late.id}/hold",
        data={"csrf": token, "reason": "   ", "version": "1"},
    )
    assert response.status_code == 422
    assert '<p class="error" role="alert">Write why the order is on hold.</p>' in response.text
