"""Appeals API on the real database: registration, scope, work, refusal, bad input, escalation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.appeals.services import escalate_appeals
from service.common.actor import Role
from service.db.models import (
    Appeal,
    AppealAttachment,
    AppealEscalation,
    AppealMeasure,
    AppealNote,
    AppealReason,
    AppealUnitRequest,
    AuditEntry,
    OutboxMessage,
)
from service.settings import EscalationSettings
from tests.conftest import problem
from tests.integration.appeals.helpers import BASE, body, register
from tests.integration.builders import Builder, Person
from tests.photo_samples import jpeg

pytestmark = pytest.mark.asyncio

SETTINGS = EscalationSettings(head_delay_minutes=60, apology_extension_minutes=1440)


async def test_register_starts_the_clock_and_tells_the_customer(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    appeal = await register(client, dispatcher, area)
    assert appeal["number"].startswith(f"A-{datetime.now(UTC).year}-")
    assert appeal["state"] == "registered"
    assert appeal["language"] == "kk"  # the customer's own
    assert appeal["clock"]["status"] == "running"
    registered = datetime.fromisoformat(appeal["registered_at"])
    due = datetime.fromisoformat(appeal["clock"]["due_at"])
    assert timedelta(days=7) <= due - registered <= timedelta(days=8)
    assert appeal["status_url"].startswith("http")
    async with build.sessionmaker() as session:
        messages = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.event == "appeal.registered",
                    OutboxMessage.context["appeal_number"].astext == appeal["number"],
                )
            )
        ).all()
        assert [(m.channel, m.recipient_address, m.language) for m in messages] == [
            ("sms", "+77011234567", "kk")
        ]
        audit = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity_type == "appeal", AuditEntry.entity_id == appeal["id"]
            )
        )
        assert audit is not None
        assert audit.action == "appeal.registered"


async def test_authorization(client: Any, build: Builder) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    stranger = await build.person(Role.COORDINATOR, other.territory)
    technician = await build.person(Role.TECHNICIAN, area.territory)
    appeal = await register(client, dispatcher, area)
    path = f"{BASE}/{appeal['id']}"

    assert (await client.get(path)).status_code == 401
    assert (await client.get(BASE)).status_code == 401
    assert (await client.post(BASE, json=body(area))).status_code == 401
    assert (await client.get(path, headers=technician.headers)).status_code == 403
    assert (await client.post(BASE, json=body(area), headers=technician.headers)).status_code == 403
    # Another territory's coordinator: the appeal does not exist for them.
    assert problem(await client.get(path, headers=stranger.headers))["status"] == 404
    listed = (await client.get(BASE, headers=stranger.headers)).json()["items"]
    assert appeal["id"] not in [a["id"] for a in listed]
    refused = await client.post(
        f"{path}/refusal", json={"ground": "abusive"}, headers=stranger.headers
    )
    assert refused.status_code == 404
    # Registering into another territory is refused and writes nothing.
    before = await build.count(Appeal)
    wrong = await client.post(BASE, json=body(other), headers=dispatcher.headers)
    assert problem(wrong)["status"] == 422
    assert await build.count(Appeal) == before
    # A dispatcher registers and reads, but does not decide or answer.
    decide = await client.post(
        f"{path}/decision",
        json={"decision": "justified", "reasons": "x"},
        headers=dispatcher.headers,
    )
    assert decide.status_code == 403
    mine = (await client.get(BASE, headers=coordinator.headers)).json()["items"]
    assert appeal["id"] in [a["id"] for a in mine]
    # Policies and reasons are changed by an administrator only.
    put = await client.put(
        f"{BASE}/policies/complaint",
        json={"merits_days": 5, "max_days": 30, "day_kind": "calendar"},
        headers=coordinator.headers,
    )
    assert put.status_code == 403


async def test_bad_input_writes_nothing(client: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    before = await build.count(Appeal)
    for bad in (
        body(area, kind="gossip"),
        body(area, text=""),
        body(area, author_name="   "),
        body(area, contact_phone=None, reply_channel="sms"),
        body(area, reply_channel="email"),
        body(area, customer_id=str(uuid.uuid4())),
        body(area, registered_at=(datetime.now(UTC) + timedelta(days=2)).isoformat()),
        {**body(area), "extra": 1},
    ):
        response = await client.post(BASE, json=bad, headers=coordinator.headers)
        assert 400 <= response.status_code < 500, (bad, response.text)
        problem(response)
    assert await build.count(Appeal) == before

    appeal = await register(client, coordinator, area)
    path = f"{BASE}/{appeal['id']}"
    # A decision without reasons; an unknown reason code; a refusal on a ground not listed.
    for url, payload in (
        (f"{path}/decision", {"decision": "justified", "reasons": "   "}),
        (f"{path}/decision", {"decision": "justified", "reasons": "ok", "reason_codes": ["nope"]}),
        (f"{path}/decision", {"decision": "maybe", "reasons": "ok"}),
        (f"{path}/refusal", {"ground": "dislike"}),
        (f"{path}/answer", {"merits": "  "}),
        (f"{path}/answer", {}),
        (f"{path}/notes", {"text": " "}),
    ):
        response = await client.post(url, json=payload, headers=coordinator.headers)
        assert 400 <= response.status_code < 500, (url, payload, response.text)
        problem(response)
    # A complaint is not answered before it is found justified or not.
    early = await client.post(
        f"{path}/answer", json={"merits": "Ответ"}, headers=coordinator.headers
    )
    assert problem(early)["status"] == 409
    # An attachment that lies about its type.
    lying = await client.post(
        f"{path}/attachments",
        files={"file": ("photo.jpg", b"MZ\x90\x00 not an image at all", "image/jpeg")},
        headers=coordinator.headers,
    )
    assert problem(lying)["status"] == 422
    # A "file" part without a filename is text, not a file; one not even UTF-8 is refused too.
    for part in (b"just text", b"\x89PNG\r\n"):
        as_text = await client.post(
            f"{path}/attachments", files={"file": (None, part)}, headers=coordinator.headers
        )
        assert 400 <= problem(as_text)["status"] < 500, as_text.text
    async with build.sessionmaker() as session:
        stored = await session.get_one(Appeal, uuid.UUID(appeal["id"]))
        assert stored.state == "registered"
        assert stored.decision is None
        assert stored.refusal_ground is None
        assert stored.answer_text is None
    assert await build.count(AppealAttachment, AppealAttachment.appeal_id == stored.id) == 0
    assert await build.count(AppealNote, AppealNote.appeal_id == stored.id) == 0


async def test_work_and_refusal(client: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    appeal = await register(client, coordinator, area)
    path = f"{BASE}/{appeal['id']}"
    headers = coordinator.headers

    took = await client.patch(path, json={"owner_id": str(supervisor.user.id)}, headers=headers)
    assert took.status_code == 200, took.text
    assert took.json()["owner_id"] == str(supervisor.user.id)
    assert took.json()["state"] == "in_progress"
    note = await client.post(f"{path}/notes", json={"text": "Позвонить мастеру"}, headers=headers)
    assert note.json()["notes"][0]["text"] == "Позвонить мастеру"
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    asked = await client.post(
        f"{path}/requests",
        json={"unit": "Служба эксплуатации", "question": "Журнал выездов", "due_at": due},
        headers=headers,
    )
    assert asked.status_code == 200, asked.text
    request_id = asked.json()["requests"][0]["id"]
    late = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    too_late = await client.post(
        f"{path}/requests", json={"unit": "X", "question": "Y", "due_at": late}, headers=headers
    )
    assert problem(too_late)["status"] == 422
    answered = await client.post(
        f"{path}/requests/{request_id}/answer",
        json={"answer": "Выезд был в 15:40"},
        headers=headers,
    )
    assert answered.json()["requests"][0]["answer"] == "Выезд был в 15:40"
    photo = await client.post(
        f"{path}/attachments",
        files={"file": ("door.jpg", jpeg(), "image/jpeg")},
        headers=headers,
    )
    assert photo.status_code == 200, photo.text
    assert photo.json()["attachments"][0]["content_type"] == "image/jpeg"
    # Measures only for a justified complaint.
    measure = {
        "description": "Провести инструктаж мастера",
        "owner_id": str(supervisor.user.id),
        "due_at": due,
    }
    assert (await client.post(f"{path}/measures", json=measure, headers=headers)).status_code == 409
    decided = await client.post(
        f"{path}/decision",
        json={
            "decision": "justified",
            "reasons": "Опоздание подтверждено",
            "reason_codes": ["missed_visit"],
        },
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["reason_codes"] == ["missed_visit"]
    added = await client.post(f"{path}/measures", json=measure, headers=headers)
    assert added.status_code == 200
    assert len(added.json()["measures"]) == 1
    # Extension within the maximum only, with a reason.
    extend = await client.patch(
        path, json={"due_at": late, "extension_reason": "Проверка"}, headers=headers
    )
    assert problem(extend)["status"] == 422

    # Another appeal refused on a listed ground: recorded and the customer told.
    other = await register(client, coordinator, area, kind="question")
    refused = await client.post(
        f"{BASE}/{other['id']}/refusal",
        json={"ground": "repeat_without_new_facts", "note": "Ответ дан 01.12"},
        headers=headers,
    )
    assert refused.status_code == 200, refused.text
    assert refused.json()["state"] == "refused"
    assert refused.json()["clock"]["status"] == "met"
    assert (
        await build.count(
            OutboxMessage,
            OutboxMessage.event == "appeal.refused",
            OutboxMessage.context["appeal_number"].astext == other["number"],
        )
        == 1
    )
    again = await client.post(
        f"{BASE}/{other['id']}/refusal", json={"ground": "abusive"}, headers=headers
    )
    assert problem(again)["status"] == 409
    assert await build.count(AppealMeasure, AppealMeasure.appeal_id == uuid.UUID(appeal["id"])) == 1


async def test_unanswered_appeal_escalates_once_per_level(client: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    registered = datetime.now(UTC) - timedelta(days=3)
    appeal = await register(
        client, coordinator, area, channel="letter", registered_at=registered.isoformat()
    )
    appeal_id = uuid.UUID(appeal["id"])
    due = datetime.fromisoformat(appeal["clock"]["due_at"])
    warning = datetime.fromisoformat(appeal["clock"]["warning_at"])

    async def run(now: datetime) -> int:
        async with build.sessionmaker() as session:
            count = await escalate_appeals(session, None, settings=SETTINGS, now=now)
            await session.commit()
        return count

    async def levels() -> list[str]:
        async with build.sessionmaker() as session:
            rows = await session.scalars(
                select(AppealEscalation.level)
                .where(AppealEscalation.appeal_id == appeal_id)
                .order_by(AppealEscalation.created_at, AppealEscalation.level)
            )
            return list(rows)

    # Other tests' appeals share the database: only this appeal's rows are asserted.
    await run(warning - timedelta(minutes=1))
    assert await levels() == []
    await run(warning + timedelta(minutes=1))
    assert await levels() == ["warning"]
    await run(warning + timedelta(minutes=2))
    assert await levels() == ["warning"]  # raised once
    await run(due + timedelta(minutes=1))
    assert await levels() == ["warning", "breach"]
    await run(due + timedelta(minutes=61))
    assert await levels() == ["warning", "breach", "head"]
    async with build.sessionmaker() as session:
        head = await session.scalar(
            select(AppealEscalation).where(
                AppealEscalation.appeal_id == appeal_id, AppealEscalation.level == "head"
            )
        )
        assert head is not None
        assert head.recipient_ids == [supervisor.user.id]
        assert head.recipient_role == "supervisor"
        messages = (
            await session.scalars(
                select(OutboxMessage.recipient_address).where(
                    OutboxMessage.event == "appeal.escalation.head",
                    OutboxMessage.context["appeal_number"].astext == appeal["number"],
                )
            )
        ).all()
        assert messages == [f"user:{supervisor.user.id}"]
    view = (await client.get(f"{BASE}/{appeal['id']}", headers=coordinator.headers)).json()
    # The API reads the clock against the real now: three days in, before the warning.
    assert view["clock"]["status"] == "running"
    # An answered (closed) appeal escalates no more.
    refused = await client.post(
        f"{BASE}/{appeal['id']}/refusal", json={"ground": "unreadable"}, headers=coordinator.headers
    )
    assert refused.status_code == 200
    await run(due + timedelta(days=5))
    assert await levels() == ["warning", "breach", "head"]


def _calls(appeal_id: str, request_id: str, owner_id: str) -> list[tuple[str, str, Any, str]]:
    """Every /api/v1/appeals endpoint: method, path, body and who may call it."""
    path = f"{BASE}/{appeal_id}"
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    return [
        ("POST", BASE, None, "readers"),  # the body is filled per caller's territory
        ("GET", BASE, None, "readers"),
        ("GET", path, None, "readers"),
        ("PATCH", path, {"owner_id": owner_id}, "workers"),
        ("POST", f"{path}/attachments", "file", "readers"),
        ("POST", f"{path}/notes", {"text": "Заметка"}, "readers"),
        ("POST", f"{path}/requests", {"unit": "Склад", "question": "?", "due_at": due}, "workers"),
        ("POST", f"{path}/requests/{request_id}/answer", {"answer": "Да"}, "workers"),
        ("POST", f"{path}/decision", {"decision": "justified", "reasons": "Опоздал"}, "workers"),
        (
            "POST",
            f"{path}/measures",
            {"description": "X", "owner_id": owner_id, "due_at": due},
            "workers",
        ),
        ("POST", f"{path}/refusal", {"ground": "abusive"}, "workers"),
        ("POST", f"{path}/answer", {"merits": "Ответ"}, "workers"),
        ("GET", f"{BASE}/policies", None, "readers"),
        (
            "PUT",
            f"{BASE}/policies/complaint",
            {"merits_days": 5, "max_days": 30, "day_kind": "calendar"},
            "admins",
        ),
        ("GET", f"{BASE}/reasons", None, "readers"),
        (
            "PUT",
            f"{BASE}/reasons/late_arrival_x",
            {"names": {"ru": "а", "kk": "ә", "en": "a"}},
            "admins",
        ),
        ("GET", f"{BASE}/analysis", None, "readers"),
    ]


async def _send(client: Any, method: str, url: str, payload: Any, who: Person | None) -> Any:
    headers = who.headers if who else {}
    if payload == "file":
        return await client.post(
            url, files={"file": ("a.jpg", jpeg(), "image/jpeg")}, headers=headers
        )
    return await client.request(method, url, json=payload, headers=headers)


async def test_every_endpoint_refuses_the_anonymous_the_wrong_role_and_other_territories(
    client: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    stranger = await build.person(Role.COORDINATOR, other.territory)
    technician = await build.person(Role.TECHNICIAN, area.territory)
    appeal = await register(client, dispatcher, area)
    asked = await client.post(
        f"{BASE}/{appeal['id']}/requests",
        json={
            "unit": "Склад",
            "question": "Где деталь?",
            "due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        headers=coordinator.headers,
    )
    assert asked.status_code == 200, asked.text
    request_id = asked.json()["requests"][0]["id"]
    calls = _calls(appeal["id"], request_id, str(coordinator.user.id))
    assert len(calls) == 17

    async def snapshot() -> tuple[Any, ...]:
        async with build.sessionmaker() as session:
            stored = await session.get_one(Appeal, uuid.UUID(appeal["id"]))
            answered = await session.get_one(AppealUnitRequest, uuid.UUID(request_id))
            row = (stored.state, stored.owner_id, stored.decision, stored.refusal_ground)
        return (
            row,
            answered.answered_at,
            await build.count(Appeal),
            await build.count(AppealNote),
            await build.count(AppealUnitRequest),
            await build.count(AppealMeasure),
            await build.count(AppealAttachment),
            await build.count(AppealReason),
            await build.count(AuditEntry, AuditEntry.entity_type.like("appeal%")),
        )

    before = await snapshot()
    for method, url, payload, allowed in calls:
        data = body(area) if payload is None and method == "POST" else payload
        assert (await _send(client, method, url, data, None)).status_code == 401, url
        refused = await _send(client, method, url, data, technician)
        assert problem(refused)["status"] == 403, (url, refused.text)
        if allowed in ("workers", "admins"):
            refused = await _send(client, method, url, data, dispatcher)
            assert problem(refused)["status"] == 403, (url, refused.text)
        if allowed == "admins":
            refused = await _send(client, method, url, data, coordinator)
            assert problem(refused)["status"] == 403, (url, refused.text)
        elif appeal["id"] in url:
            # Another territory's coordinator: the appeal does not exist for them.
            refused = await _send(client, method, url, data, stranger)
            assert problem(refused)["status"] == 404, (url, refused.text)
    assert await snapshot() == before
    # Another territory's figures are not theirs to see: the scope keeps them out.
    figures = await client.get(
        f"{BASE}/analysis",
        params={"territory_id": str(area.territory.id)},
        headers=stranger.headers,
    )
    assert figures.status_code == 200, figures.text
    assert figures.json()["appeals"] == 0


async def test_bad_identifiers_oversized_texts_and_unknown_values_are_4xx_and_write_nothing(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    admin = await build.person(Role.ADMIN)
    appeal = await register(client, coordinator, area)
    path = f"{BASE}/{appeal['id']}"
    missing = f"{BASE}/{uuid.uuid4()}"

    async def counts() -> tuple[int, ...]:
        return (
            await build.count(Appeal),
            await build.count(AppealNote),
            await build.count(AppealUnitRequest),
            await build.count(AppealMeasure),
            await build.count(AppealReason),
            await build.count(AuditEntry, AuditEntry.entity_type.like("appeal%")),
        )

    before = await counts()
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for method, url, payload, who in (
        ("GET", f"{BASE}/not-a-uuid", None, coordinator),
        ("POST", f"{BASE}/not-a-uuid/notes", {"text": "x"}, coordinator),
        ("GET", missing, None, coordinator),
        ("POST", f"{missing}/notes", {"text": "x"}, coordinator),
        ("POST", f"{missing}/refusal", {"ground": "abusive"}, coordinator),
        ("POST", f"{path}/requests/{uuid.uuid4()}/answer", {"answer": "x"}, coordinator),
        ("POST", f"{path}/requests/nope/answer", {"answer": "x"}, coordinator),
        ("POST", BASE, body(area, territory_id="nope"), coordinator),
        ("POST", BASE, body(area, customer_id="12345"), coordinator),
        ("POST", BASE, body(area, text="ж" * 8001), coordinator),
        ("POST", BASE, body(area, author_name="ж" * 500), coordinator),
        ("POST", BASE, body(area, channel="pigeon"), coordinator),
        ("POST", f"{path}/notes", {"text": "ж" * 4001}, coordinator),
        ("POST", f"{path}/answer", {"merits": "ж" * 8001}, coordinator),
        ("POST", f"{path}/refusal", {"ground": "abusive", "note": "ж" * 2001}, coordinator),
        ("POST", f"{path}/requests", {"unit": "X", "question": "?", "due_at": "soon"}, coordinator),
        ("PATCH", path, {"owner_id": str(uuid.uuid4())}, coordinator),
        ("PATCH", path, {"owner_id": "nope"}, coordinator),
        (
            "POST",
            f"{path}/measures",
            {"description": "X", "owner_id": "nope", "due_at": due},
            coordinator,
        ),
        ("GET", f"{BASE}?state=bogus", None, coordinator),
        ("GET", f"{BASE}?kind=bogus", None, coordinator),
        ("GET", f"{BASE}?owner=you", None, coordinator),
        ("GET", f"{BASE}?territory_id=nope", None, coordinator),
        ("GET", f"{BASE}/analysis?since=yesterday", None, coordinator),
        (
            "GET",
            f"{BASE}/analysis?since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z",
            None,
            coordinator,
        ),
        (
            "PUT",
            f"{BASE}/policies/bogus",
            {"merits_days": 5, "max_days": 30, "day_kind": "calendar"},
            admin,
        ),
        (
            "PUT",
            f"{BASE}/policies/complaint",
            {"merits_days": 0, "max_days": 30, "day_kind": "calendar"},
            admin,
        ),
        (
            "PUT",
            f"{BASE}/policies/complaint",
            {"merits_days": 5, "max_days": 30, "day_kind": "lunar"},
            admin,
        ),
        ("PUT", f"{BASE}/reasons/Bad-Code", {"names": {"ru": "а", "kk": "ә", "en": "a"}}, admin),
        ("PUT", f"{BASE}/reasons/{'a' * 60}", {"names": {"ru": "а", "kk": "ә", "en": "a"}}, admin),
        ("PUT", f"{BASE}/reasons/fine_code", {"names": {"ru": " ", "kk": "ә", "en": "a"}}, admin),
    ):
        response = await client.request(method, url, json=payload, headers=who.headers)
        assert 400 <= response.status_code < 500, (method, url, response.text)
        if "not-a-uuid" not in url and "/nope/" not in url:
            problem(response)  # unmatched routes are the router's plain 404
    assert await counts() == before
    async with build.sessionmaker() as session:
        stored = await session.get_one(Appeal, uuid.UUID(appeal["id"]))
        assert (stored.state, stored.owner_id, stored.refusal_ground) == ("registered", None, None)


async def test_fully_escalated_appeals_do_not_crowd_out_the_rest_of_the_batch(
    fresh_client: Any, fresh_build: Builder
) -> None:
    """An open appeal with every due level raised is not picked again, so a batch moves on."""
    area = await fresh_build.area()
    coordinator = await fresh_build.person(Role.COORDINATOR, area.territory)
    appeals = [await register(fresh_client, coordinator, area) for _ in range(3)]
    later = max(datetime.fromisoformat(a["clock"]["due_at"]) for a in appeals) + timedelta(days=2)
    for _ in range(3):
        async with fresh_build.sessionmaker() as session:
            await escalate_appeals(session, None, settings=SETTINGS, now=later, limit=2)
            await session.commit()
    heads = await fresh_build.count(AppealEscalation, AppealEscalation.level == "head")
    assert heads == 3
