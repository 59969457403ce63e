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
    AuditEntry,
    OutboxMessage,
)
from service.settings import EscalationSettings
from tests.conftest import problem
from tests.integration.builders import Area, Builder, Person
from tests.photo_samples import jpeg

pytestmark = pytest.mark.asyncio

BASE = "/api/v1/appeals"
SETTINGS = EscalationSettings(head_delay_minutes=60, apology_extension_minutes=1440)


def body(area: Area, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "complaint",
        "channel": "phone",
        "territory_id": str(area.territory.id),
        "author_name": "Иванова Мария Петровна",
        "text": "Мастер не пришёл в согласованное время.",
        "contact_phone": "+77011234567",
        "customer_id": str(area.customer.id),
        **fields,
    }


async def register(client: Any, who: Person, area: Area, **fields: Any) -> dict[str, Any]:
    response = await client.post(BASE, json=body(area, **fields), headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


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
