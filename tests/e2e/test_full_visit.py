"""A whole visit: day -> en route -> arrive -> checklist -> photos -> act -> sign -> PDF stored."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import select

from service.acts.rendering import ActRenderer
from service.db.models import Act, ActSignature, OutboxMessage, Visit, WorkOrder
from tests.conftest import problem
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio


async def test_full_visit_to_a_signed_act(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    day = await client.get("/mobile/v1/day", headers=field.phone.headers())
    (visit,) = day.json()["visits"]
    site = visit["location"]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], site)
    here = {"lat": site["lat"], "lon": site["lon"], "accuracy_m": 5}
    results = await phone.push(
        phone.op("en_route", {"eta": phone.clock.isoformat()}), phone.op("arrived", location=here)
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    await phone.answer_until_signing(visit["work_type"])

    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    link = started.json()
    token_path = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    page = await client.get(token_path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert link["act_number"] in page.text
    assert link["snapshot_sha256"] in page.text

    wrong = await client.post(token_path, json={**signature_body("0" * 64)})
    assert wrong.status_code == 409  # signed something else than what is shown
    empty = await client.post(
        token_path, json={**signature_body(link["snapshot_sha256"]), "strokes": []}
    )
    assert empty.status_code == 422
    problem(empty)

    signed = await client.post(token_path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    result = signed.json()
    # Signed in the request; the PDF is the worker's, so the answer does not wait for it.
    assert result["status"] == "signed"
    assert result["pdf_sha256"] is None
    # A replay (double tap, lost answer) gets the same answer and records nothing again ...
    replayed = await client.post(token_path, json=signature_body(link["snapshot_sha256"]))
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == result
    # ... while another signature on the spent link is refused.
    other = {**signature_body(link["snapshot_sha256"]), "signer_name": "Someone Else"}
    reused = await client.post(token_path, json=other)
    assert reused.status_code == 409
    assert problem(reused)["code"] == "link_used"
    copy_path = result["copy_url"].split("127.0.0.1:8000", 1)[-1]
    preparing = await client.get(copy_path, follow_redirects=False)
    assert preparing.status_code == 200
    assert preparing.headers["content-type"] == "text/html; charset=utf-8"
    assert "data-refresh" in preparing.text  # it checks again by itself
    assert await build.count(ActSignature, ActSignature.act_id == link["act_id"]) == 1

    renderer = ActRenderer(build.sessionmaker, app.state.blob_store, app.state.settings)
    act_id = uuid.UUID(link["act_id"])
    assert await renderer.render_next(act_id) == act_id
    assert await renderer.render_next(act_id) is None  # rendered once
    ready = await client.get(copy_path, follow_redirects=False)
    assert ready.status_code == 307
    qr = await client.get(copy_path + "/qr.svg")
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content

    async with build.sessionmaker() as session:
        act = await session.scalar(select(Act).where(Act.id == link["act_id"]))
        signature = await session.scalar(select(ActSignature).where(ActSignature.act_id == act.id))
        copy_sms = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.event == "act.signed")
        )
    assert act is not None
    assert signature is not None
    assert signature.document_sha256 == act.snapshot_sha256 == link["snapshot_sha256"]
    pdf = await app.state.blob_store.get(act.pdf_key)
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == act.pdf_sha256
    assert act.status == "signed"  # no seal configured in tests
    assert copy_sms is not None

    # With the act signed, the checklist allows completion.
    outcome = await phone.push(
        phone.op("checklist_answer", {"step_id": "thanked", "value": True}),
        phone.op("outcome", {"outcome": "completed"}),
    )
    assert [r["status"] for r in outcome] == ["applied", "applied"], outcome
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, field.visit.id)).status == "completed"
        assert (await session.get_one(WorkOrder, field.order.id)).status == "completed"


async def test_refusal_is_recorded_and_the_link_dies(
    client: Any, build: Builder, field: Field
) -> None:
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    early = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert early.status_code == 422  # the checklist is not at completion yet
    await phone.answer_until_signing(visit["work_type"])
    link = (
        await client.post(
            f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
        )
    ).json()
    path = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    refused = await client.post(path + "/refuse", json={"reason": "Не согласен с объёмом работ"})
    assert refused.status_code == 200
    again = await client.get(path)
    assert again.status_code == 409
    assert "Сіз бұл актіге қол қоюдан бас тарттыңыз" in again.text  # in the act's language
    assert (
        await client.post(path, json=signature_body(link["snapshot_sha256"]))
    ).status_code == 409
