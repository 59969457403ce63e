"""Customer ratings: the link issued at completion, the page, the rules, the follow-ups."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from service.auth.actor import Role
from service.db.models import (
    AuditEntry,
    CustomerLink,
    FollowUpTask,
    OutboxMessage,
    Rating,
    Visit,
    WorkOrder,
)
from service.notifications.outbox import start_link_lifetime
from service.ratings.services import RatingLinks, request_rating
from tests.conftest import problem
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, field  # noqa: F401
from tests.integration.ratings.helpers import Rated, rated_visit

pytestmark = pytest.mark.asyncio

ALL_YES = {"id_shown": True, "overshoes_on": True, "service_demonstrated": True, "area_clean": True}
BASE = "/api/v1/coordination/follow-ups"


async def _counts(build: Builder, rated: Rated) -> tuple[int, int, int]:
    return (
        await build.count(Rating, Rating.visit_id == rated.visit.id),
        await build.count(FollowUpTask, FollowUpTask.visit_id == rated.visit.id),
        await build.count(OutboxMessage, OutboxMessage.event == "follow_up.opened"),
    )


async def _task(build: Builder, rated: Rated) -> FollowUpTask | None:
    async with build.sessionmaker() as session:
        return await session.scalar(
            select(FollowUpTask).where(FollowUpTask.visit_id == rated.visit.id)
        )


async def test_completion_issues_exactly_one_link_and_one_message(
    client: Any,
    build: Builder,
    field: Field,  # noqa: F811 - the mobile fixture
    settings: Any,
) -> None:
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {**visit["location"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"])
    link = (
        await client.post(
            f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
        )
    ).json()
    signing_path = link["signing_url"].split(settings.server.public_base_url, 1)[1]
    signed = await client.post(signing_path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text

    thanked = phone.op("checklist_answer", {"step_id": "thanked", "value": True})
    outcome = phone.op("outcome", {"outcome": "completed"})
    assert [r["status"] for r in await phone.push(thanked, outcome)] == ["applied", "applied"]
    # The phone retries the same operation (lost response): nothing is issued again.
    assert [r["status"] for r in await phone.push(outcome)] == ["duplicate"]

    async with build.sessionmaker() as session:
        visit_row = await session.get_one(Visit, field.visit.id)
        order_row = await session.get_one(WorkOrder, field.order.id)
        assert visit_row.status == "completed"
        # Defensive: a second completion path calling the service directly is a no-op too.
        links = RatingLinks.from_settings(settings)
        assert not await request_rating(session, visit_row, order_row, links)
        await session.commit()
        messages = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.event == "rating.requested",
                    OutboxMessage.recipient_id == field.area.customer.id,
                )
            )
        ).all()
    assert (
        await build.count(
            CustomerLink, CustomerLink.visit_id == field.visit.id, CustomerLink.purpose == "rating"
        )
        == 1
    )
    assert len(messages) == 1
    (message,) = messages
    assert message.language == "kk"  # the customer's preferred language
    assert message.channel == "sms"
    assert message.recipient_address == "+77011234567"
    url = message.context["rating_url"]
    assert url.startswith(f"{settings.server.public_base_url}/rate/")
    page = await client.get(url.split(settings.server.public_base_url, 1)[1])
    assert page.status_code == 200
    assert field.order.number in page.text


async def test_five_stars_and_all_yes_store_the_rating_and_open_nothing(
    client: Any, build: Builder
) -> None:
    rated = await rated_visit(build)
    response = await client.post(rated.path, json={"score": 5, "comment": " Рахмет! ", **ALL_YES})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "received",
        "score": 5,
        "reply": "thanks",
        "call_by": None,
        "time_zone": None,
    }
    async with build.sessionmaker() as session:
        rating = await session.scalar(select(Rating).where(Rating.visit_id == rated.visit.id))
    assert rating is not None
    assert (rating.score, rating.comment, rating.work_order_id) == (5, "Рахмет!", rated.order.id)
    assert rating.confirmations == ALL_YES
    assert await _task(build, rated) is None


async def test_three_stars_open_a_task_with_an_owner_and_a_deadline(
    client: Any, build: Builder
) -> None:
    rated = await rated_visit(build, coordinators=2)
    before = datetime.now(UTC)
    response = await client.post(rated.path, json={"score": 3, **ALL_YES})
    assert response.status_code == 200, response.text
    task = await _task(build, rated)
    assert task is not None
    assert task.reasons == ["low_score"]
    assert task.status == "open"
    # The customer is told sorry and by when someone calls, on the site's clock.
    reply = response.json()
    assert (reply["reply"], reply["time_zone"]) == ("apology", "Asia/Almaty")
    assert reply["call_by"].endswith("+05:00")
    assert datetime.fromisoformat(reply["call_by"]) == task.due_at
    # The least-loaded coordinator, ties broken by username: deterministic.
    first = min(rated.coordinators, key=lambda p: p.user.username)
    assert task.owner_id == first.user.id
    # Two working days after today on the territory's calendar (or 48 h without one).
    assert before + timedelta(days=1) < task.due_at <= before + timedelta(days=6)
    async with build.sessionmaker() as session:
        note = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event == "follow_up.opened",
                OutboxMessage.recipient_id == first.user.id,
            )
        )
    assert note is not None
    assert note.context["work_order_number"] == rated.order.number

    # The next poor rating in the territory goes to the other coordinator.
    second = await rated_visit_in(build, rated)
    assert (await client.post(second.path, json={"score": 1})).status_code == 200
    other = await _task(build, second)
    assert other is not None
    assert other.owner_id != first.user.id
    assert other.owner_id in {p.user.id for p in rated.coordinators}


async def rated_visit_in(build: Builder, rated: Rated) -> Rated:
    """Another completed, link-issued visit in the same territory."""
    assert rated.technician.technician is not None
    order = await build.order(rated.area, status="completed")
    visit = await build.visit(
        order,
        rated.technician.technician,
        start=datetime.now(UTC) - timedelta(hours=6),
        status="completed",
    )
    async with build.sessionmaker() as session:
        links = RatingLinks(base_url="https://naryad.example", ttl=timedelta(days=7))
        order_row = await session.get_one(WorkOrder, order.id)
        visit_row = await session.get_one(Visit, visit.id)
        assert await request_rating(session, visit_row, order_row, links)
        await session.commit()
        message = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.event == "rating.requested")
            .order_by(OutboxMessage.created_at.desc())
            .limit(1)
        )
    assert message is not None
    token = message.context["rating_url"].rsplit("/rate/", 1)[1]
    return Rated(rated.area, order, visit, rated.technician, rated.coordinators, token)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("id_shown", "id_not_shown"),
        ("overshoes_on", "no_overshoes"),
        ("service_demonstrated", "not_demonstrated"),
        ("area_clean", "area_not_clean"),
    ],
)
async def test_any_no_opens_a_task(client: Any, build: Builder, answer: str, reason: str) -> None:
    rated = await rated_visit(build, coordinators=0)
    response = await client.post(rated.path, json={"score": 5, **ALL_YES, answer: False})
    assert response.status_code == 200, response.text
    task = await _task(build, rated)
    assert task is not None
    assert task.reasons == [reason]
    assert task.owner_id is None  # no coordinator in the territory: every coordinator sees it


async def test_unanswered_questions_are_not_a_no(client: Any, build: Builder) -> None:
    rated = await rated_visit(build)
    assert (await client.post(rated.path, json={"score": 4})).status_code == 200
    assert await _task(build, rated) is None


@pytest.mark.parametrize(
    "body",
    [
        {"score": 0},
        {"score": 6},
        {"score": None},
        {"score": 5, "stars": 5},
        {"score": 5, "comment": "x" * 2001},
        {"comment": "no score"},
    ],
)
async def test_bad_ratings_are_422_and_write_nothing(
    client: Any, build: Builder, body: dict[str, Any]
) -> None:
    rated = await rated_visit(build)
    before = await _counts(build, rated)
    response = await client.post(rated.path, json=body)
    assert response.status_code == 422, response.text
    assert problem(response)["errors"]
    assert await _counts(build, rated) == before
    assert before[:2] == (0, 0)
    # The link is still good.
    assert (await client.post(rated.path, json={"score": 5})).status_code == 200


async def test_reused_link_is_409_and_writes_nothing(client: Any, build: Builder) -> None:
    rated = await rated_visit(build)
    assert (await client.post(rated.path, json={"score": 2})).status_code == 200
    before = await _counts(build, rated)
    again = await client.post(rated.path, json={"score": 5})
    assert again.status_code == 409
    assert problem(again)["code"] == "link_used"
    assert await _counts(build, rated) == before == (1, 1, before[2])
    page = await client.get(rated.path)
    assert page.status_code == 409
    assert page.headers["content-type"].startswith("text/html")


async def test_expired_and_unknown_links(client: Any, build: Builder) -> None:
    rated = await rated_visit(build)
    async with build.sessionmaker() as session:
        await session.execute(
            update(CustomerLink)
            .where(CustomerLink.visit_id == rated.visit.id, CustomerLink.purpose == "rating")
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    expired = await client.post(rated.path, json={"score": 1})
    assert expired.status_code == 410
    assert problem(expired)["code"] == "link_expired"
    assert await build.count(Rating, Rating.visit_id == rated.visit.id) == 0
    assert (await client.get(rated.path)).status_code == 410
    unknown = await client.post("/rate/not-a-token", json={"score": 1})
    assert unknown.status_code == 404
    problem(unknown)
    assert (await client.get("/rate/not-a-token")).status_code == 404


async def test_the_page_shows_first_names_only_in_the_customer_language(
    client: Any, build: Builder
) -> None:
    rated = await rated_visit(build)
    page = await client.get(rated.path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<html lang="kk">' in html
    # First names of the customer and the technician; no surnames, phone or address.
    for shown in ("Әлия", "Қанат", rated.order.number):
        assert shown in html
    for hidden in ("Нұрланова", "Серікбаев", "+7701", "Абая"):
        assert hidden not in html
    assert rated.order.number in html
    assert html.count('type="radio" name="score"') == 5
    english = await client.get(rated.path, params={"lang": "en"})
    assert '<html lang="en">' in english.text
    assert "Did the technician show their company ID?" in english.text


async def test_an_unsupported_language_falls_back_to_the_customers(
    client: Any, build: Builder
) -> None:
    rated = await rated_visit(build)
    page = await client.get(rated.path, params={"lang": "de"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="kk">' in page.text  # the customer's preferred language
    dead = await client.get("/rate/not-a-token", params={"lang": "de"})
    assert dead.status_code == 404
    assert dead.headers["content-type"].startswith("text/html")


async def test_a_rating_is_audited_without_personal_data(client: Any, build: Builder) -> None:
    rated = await rated_visit(build)
    comment = "Қанат был вежлив, звоните Әлия +77011234567"
    response = await client.post(rated.path, json={"score": 2, "comment": comment, **ALL_YES})
    assert response.status_code == 200, response.text
    async with build.sessionmaker() as session:
        rating = await session.scalar(select(Rating).where(Rating.visit_id == rated.visit.id))
        assert rating is not None
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "rating.submitted", AuditEntry.entity_id == str(rating.id)
            )
        )
        # The latest entry of the chain: nothing audited after it in the call.
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert entry is not None
    assert last is not None
    assert last.id == entry.id
    assert (entry.actor_user_id, entry.actor_role, entry.entity_type) == (None, None, "rating")
    assert entry.after["score"] == 2
    assert entry.after["work_order_id"] == str(rated.order.id)
    assert entry.after["has_comment"] is True
    assert entry.after["follow_up_id"] is not None
    stored = json.dumps([entry.before, entry.after], ensure_ascii=False)
    for personal in ("Қанат", "Әлия", "вежлив", "+7701", "Нұрланова", "Серікбаев", "Абая"):
        assert personal not in stored


# -- the coordinators' API -------------------------------------------------------------------


async def _poor_rating(client: Any, build: Builder) -> tuple[Rated, FollowUpTask]:
    rated = await rated_visit(build)
    assert (
        await client.post(rated.path, json={"score": 2, "comment": "Опоздал"})
    ).status_code == 200
    task = await _task(build, rated)
    assert task is not None
    return rated, task


async def test_coordinator_lists_and_resolves_follow_ups(client: Any, build: Builder) -> None:
    rated, task = await _poor_rating(client, build)
    owner = rated.coordinators[0]
    listed = await client.get(BASE, params={"owner": "me"}, headers=owner.headers)
    assert listed.status_code == 200, listed.text
    (item,) = [i for i in listed.json()["items"] if i["id"] == str(task.id)]
    assert item["rating"]["score"] == 2
    assert item["rating"]["comment"] == "Опоздал"
    assert item["work_order_number"] == rated.order.number
    assert item["reasons"] == ["low_score"]
    assert item["owner_id"] == str(owner.user.id)

    blank = await client.post(
        f"{BASE}/{task.id}/resolve", json={"comment": "   "}, headers=owner.headers
    )
    assert blank.status_code == 422
    missing = await client.post(f"{BASE}/{task.id}/resolve", json={}, headers=owner.headers)
    assert 400 <= missing.status_code < 500
    problem(missing)
    assert (await _task(build, rated)).status == "open"  # type: ignore[union-attr]

    done = await client.post(
        f"{BASE}/{task.id}/resolve",
        json={"comment": "Позвонили, извинились, клиент доволен"},
        headers=owner.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert done.json()["resolved_by"] == str(owner.user.id)
    again = await client.post(
        f"{BASE}/{task.id}/resolve", json={"comment": "ещё раз"}, headers=owner.headers
    )
    assert again.status_code == 409
    closed = await client.get(BASE, params={"status": "done"}, headers=owner.headers)
    assert str(task.id) in {i["id"] for i in closed.json()["items"]}
    still_open = await client.get(BASE, headers=owner.headers)
    assert str(task.id) not in {i["id"] for i in still_open.json()["items"]}


async def test_follow_up_authorization(client: Any, build: Builder) -> None:
    rated, task = await _poor_rating(client, build)
    home = rated.area.territory
    away = await build.area()
    urls = [(BASE, "GET", None), (f"{BASE}/{task.id}", "GET", None)]
    resolve = (f"{BASE}/{task.id}/resolve", "POST", {"comment": "done"})

    for url, method, body in [*urls, resolve]:
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, url
        problem(anonymous)
        technician = await client.request(method, url, json=body, headers=rated.technician.headers)
        assert technician.status_code == 403, url
        problem(technician)

    dispatcher = await build.person(Role.DISPATCHER, home)
    for url, method, _ in urls:
        assert (await client.request(method, url, headers=dispatcher.headers)).status_code == 200
    read_only = await client.post(resolve[0], json=resolve[2], headers=dispatcher.headers)
    assert read_only.status_code == 403

    outsider = await build.person(Role.COORDINATOR, away.territory)
    listed = await client.get(BASE, headers=outsider.headers)
    assert str(task.id) not in {i["id"] for i in listed.json()["items"]}
    hidden = await client.get(f"{BASE}/{task.id}", headers=outsider.headers)
    assert hidden.status_code == 404
    problem(hidden)
    foreign = await client.post(resolve[0], json=resolve[2], headers=outsider.headers)
    assert foreign.status_code == 404
    assert (await _task(build, rated)).status == "open"  # type: ignore[union-attr]

    supervisor = await build.person(Role.SUPERVISOR, home)
    resolved = await client.post(resolve[0], json=resolve[2], headers=supervisor.headers)
    assert resolved.status_code == 200, resolved.text


async def test_the_rating_sms_names_its_link_whose_days_start_when_sent(build: Builder) -> None:
    rated = await rated_visit(build)
    async with build.sessionmaker() as session:
        link = await session.scalar(
            select(CustomerLink).where(
                CustomerLink.visit_id == rated.visit.id, CustomerLink.purpose == "rating"
            )
        )
        assert link is not None
        message = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event == "rating.requested",
                OutboxMessage.recipient_id == rated.area.customer.id,
            )
        )
        assert message is not None
        assert message.link_id == link.id
        assert link.sent_at is None  # queued, not sent: its lifetime has not started
        lifetime = link.expires_at - link.created_at
        await start_link_lifetime(session, link.id)  # what the worker does once it is sent
        await session.commit()
        sent = await session.get_one(CustomerLink, link.id, populate_existing=True)
    assert sent.sent_at is not None
    assert sent.expires_at - sent.sent_at == lifetime == timedelta(days=7)
