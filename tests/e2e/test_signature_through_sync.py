"""A signature step pushed by the phone: only ever the act the customer really signed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from service.db.models import ChecklistAnswer, SyncOperation, Visit, WorkOrder
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio


async def _push(client: Any, field: Field, operation: dict[str, Any], lang: str) -> dict[str, Any]:
    response = await client.post(
        "/mobile/v1/sync/push",
        json={"operations": [operation]},
        headers={
            **field.phone.headers(),
            "Idempotency-Key": str(uuid.uuid4()),
            "Accept-Language": lang,
        },
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


async def _sign_answers(build: Builder, visit_id: Any) -> list[Any]:
    async with build.sessionmaker() as session:
        return list(
            await session.scalars(
                select(ChecklistAnswer.value)
                .where(ChecklistAnswer.visit_id == visit_id, ChecklistAnswer.step_id == "sign_act")
                .order_by(ChecklistAnswer.id)
            )
        )


async def test_sign_act_from_the_phone_needs_a_signed_act_and_records_that_act(
    client: Any, build: Builder, field: Field
) -> None:
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"])
    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    link = started.json()

    # The act is drawn up but not signed: a claimed signature is refused, in the phone's language.
    forged = phone.op("checklist_answer", {"step_id": "sign_act", "value": "anything"}, here)
    refused = await _push(client, field, forged, "kk")
    assert refused["status"] == "rejected", refused
    assert refused["code"] == "act_not_signed"
    assert refused["message"].startswith("Тапсырыс беруші актіге әлі қол қойған жоқ"), refused
    assert await _sign_answers(build, field.visit.id) == []
    # Exactly once: the same operation again answers the same, still nothing recorded.
    again = await _push(client, field, forged, "kk")
    assert again["status"] == "duplicate"
    assert again["original_status"] == "rejected"
    assert (again["code"], again["message"]) == (refused["code"], refused["message"])
    assert await _sign_answers(build, field.visit.id) == []
    # Nor can the outcome carry the signature in.
    ending = phone.op(
        "outcome", {"outcome": "completed", "answers": [{"step_id": "sign_act", "value": "x"}]}
    )
    not_ended = await _push(client, field, ending, "ru")
    assert (not_ended["status"], not_ended["code"]) == ("rejected", "act_not_signed")
    assert not_ended["message"].startswith("Клиент ещё не подписал акт"), not_ended
    assert await _sign_answers(build, field.visit.id) == []
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, field.visit.id)).status == "on_site"

    path = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    signed = await client.post(path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    assert await _sign_answers(build, field.visit.id) == [link["act_id"]]

    # Signed: the phone's repeat is applied, and the value kept is the act's id, not the phone's.
    repeat = phone.op("checklist_answer", {"step_id": "sign_act", "value": "whatever"}, here)
    applied = await _push(client, field, repeat, "en")
    assert applied["status"] == "applied", applied
    assert await _sign_answers(build, field.visit.id) == [link["act_id"], link["act_id"]]
    async with build.sessionmaker() as session:
        stored = await session.get_one(SyncOperation, uuid.UUID(repeat["id"]))
    assert stored.status == "applied"


async def test_an_outcome_cannot_carry_in_photos_that_are_not_confirmed(
    client: Any, build: Builder, field: Field
) -> None:
    # The same rules as a single answer: an outcome's answers name only the visit's stored photos.
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"], skip={"photo_after"})
    ending = phone.op(
        "outcome",
        {
            "outcome": "needs_revisit",
            "answers": [
                {"step_id": "photo_after", "photo_ids": [str(uuid.uuid4())]},
                {"step_id": "revisit_reason", "value": "parts_missing"},
            ],
        },
    )
    refused = await _push(client, field, ending, "en")
    assert (refused["status"], refused["code"]) == ("rejected", "photo_not_confirmed"), refused
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, field.visit.id)).status == "on_site"
        stored = await session.scalars(
            select(ChecklistAnswer.step_id).where(
                ChecklistAnswer.visit_id == field.visit.id,
                ChecklistAnswer.step_id.in_(["photo_after", "revisit_reason"]),
            )
        )
        assert list(stored) == []


async def test_the_signing_page_answers_the_signature_step_of_the_acts_own_kind(
    client: Any, build: Builder, field: Field
) -> None:
    # An installation signs two acts: the handover act's signature answers its own step only.
    async with build.sessionmaker() as session:
        (await session.get_one(WorkOrder, field.order.id)).type = "installation"
        await session.commit()
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing("installation")
    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts",
        json={"kind": "handover"},
        headers=field.phone.headers(),
    )
    assert started.status_code == 201, started.text
    link = started.json()
    path = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    signed = await client.post(path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    async with build.sessionmaker() as session:
        answered = {
            step: value
            for step, value in await session.execute(
                select(ChecklistAnswer.step_id, ChecklistAnswer.value).where(
                    ChecklistAnswer.visit_id == field.visit.id,
                    ChecklistAnswer.step_id.in_(["sign_act", "sign_handover_act"]),
                )
            )
        }
    assert answered == {"sign_handover_act": link["act_id"]}
