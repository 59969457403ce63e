"""The customer's signing link: one-time codes that cannot be guessed, closed visits, no phone."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select

import reports
from service.db.models import (
    Act,
    ActSignature,
    Customer,
    CustomerLink,
    OutboxMessage,
    Visit,
    WorkOrder,
)
from service.execution.signing import OTP_ATTEMPTS, SigningService
from tests.conftest import problem
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio


async def _signing_link(client: Any, field: Field) -> dict[str, str]:
    """Arrive, answer the checklist up to the signature, start the act; the link's data."""
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
    link: dict[str, str] = started.json()
    link["path"] = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    return link


async def _sent_code(build: Builder) -> str:
    async with build.sessionmaker() as session:
        message = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.event == "otp.sent")
            .order_by(OutboxMessage.created_at.desc())
            .limit(1)
        )
    assert message is not None
    return str(message.context["code"])


async def _attempts(build: Builder, act_id: str) -> int:
    async with build.sessionmaker() as session:
        attempts = await session.scalar(
            select(CustomerLink.otp_attempts).where(
                CustomerLink.purpose == "sign", CustomerLink.act_id == act_id
            )
        )
    assert attempts is not None
    return attempts


async def test_wrong_codes_are_counted_and_lock_the_link(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    sent = await client.post(link["path"] + "/otp")
    assert sent.status_code == 202, sent.text
    code = await _sent_code(build)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = signature_body(link["snapshot_sha256"])

    for attempt in range(1, OTP_ATTEMPTS):
        refused = await client.post(link["path"], json={**body, "otp": wrong})
        assert refused.status_code == 422, refused.text
        assert problem(refused)["code"] == "wrong_code"
        # The request rolled back, yet the attempt stays spent.
        assert await _attempts(build, link["act_id"]) == attempt
    # A new code does not buy more guesses.
    assert (await client.post(link["path"] + "/otp")).status_code == 202
    code = await _sent_code(build)
    last = await client.post(link["path"], json={**body, "otp": wrong})
    assert last.status_code == 422
    locked = await client.post(link["path"], json={**body, "otp": code})
    assert locked.status_code == 401, locked.text
    problem(locked)
    assert await build.count(ActSignature, ActSignature.act_id == link["act_id"]) == 0


async def test_form_errors_do_not_spend_attempts(client: Any, build: Builder, field: Field) -> None:
    link = await _signing_link(client, field)
    assert (await client.post(link["path"] + "/otp")).status_code == 202
    code = await _sent_code(build)
    body = signature_body(link["snapshot_sha256"])
    empty = await client.post(link["path"], json={**body, "strokes": [], "otp": code})
    assert empty.status_code == 422
    assert await _attempts(build, link["act_id"]) == 0
    signed = await client.post(link["path"], json={**body, "otp": code})
    assert signed.status_code == 200, signed.text
    async with build.sessionmaker() as session:
        signature = await session.scalar(
            select(ActSignature).where(ActSignature.act_id == link["act_id"])
        )
    assert signature is not None
    assert signature.otp_verified


async def test_a_visit_ended_meanwhile_cannot_be_signed(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    async with build.sessionmaker() as session:
        visit = await session.get_one(Visit, field.visit.id)
        visit.status = "needs_revisit"
        await session.commit()
    refused = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert refused.status_code == 409, refused.text
    assert problem(refused)["code"] == "visit_closed"
    assert await build.count(ActSignature, ActSignature.act_id == link["act_id"]) == 0


async def test_no_phone_to_send_a_code_to(client: Any, build: Builder, field: Field) -> None:
    link = await _signing_link(client, field)
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, field.order.id)
        order.contact_phones = []
        customer = await session.get_one(Customer, order.customer_id)
        customer.phones = []
        await session.commit()
    before = await build.count(OutboxMessage, OutboxMessage.event == "otp.sent")
    answer = await client.post(link["path"] + "/otp")
    assert answer.status_code == 409, answer.text
    assert problem(answer)["code"] == "no_phone"
    assert await build.count(OutboxMessage, OutboxMessage.event == "otp.sent") == before
    async with build.sessionmaker() as session:
        assert (
            await session.scalar(
                select(func.count()).where(
                    CustomerLink.act_id == link["act_id"], CustomerLink.otp_hash.is_not(None)
                )
            )
            == 0
        )


async def test_a_data_url_without_its_data_is_a_422_and_writes_nothing(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    body = {**signature_body(link["snapshot_sha256"]), "png_base64": "data:image/png;base64"}
    refused = await client.post(link["path"], json=body)
    assert refused.status_code == 422, refused.text
    assert problem(refused)["errors"][0]["field"] == "png_base64"
    assert await build.count(ActSignature, ActSignature.act_id == link["act_id"]) == 0
    assert (await client.get(link["path"])).status_code == 200


async def test_an_act_redrafted_while_the_customer_signs_is_not_signed(
    client: Any, build: Builder, field: Field, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = await _signing_link(client, field)
    check_code = SigningService._check_code

    async def redraft_meanwhile(self: SigningService, row: CustomerLink, code: str | None) -> bool:
        # Between the request's first read of the act and its lock, the act gets new text
        # (committed on the app's own engine: the app runs on another event loop).
        async with self.deps.sessionmaker() as session:
            act = await session.get_one(Act, row.act_id)
            snapshot = reports.parse_snapshot(act.snapshot_json)
            changed = msgspec.structs.replace(snapshot, customer_remarks="Дописано")
            canonical = reports.canonical_json(changed)
            act.snapshot_json = canonical.decode("utf-8")
            act.snapshot_sha256 = hashlib.sha256(canonical).hexdigest()
            await session.commit()
        return await check_code(self, row, code)

    monkeypatch.setattr(SigningService, "_check_code", redraft_meanwhile)
    refused = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert refused.status_code == 409, refused.text
    assert problem(refused)["code"] == "document_changed"
    assert await build.count(ActSignature, ActSignature.act_id == link["act_id"]) == 0
    assert await build.count(Act, Act.id == link["act_id"], Act.status == "draft") == 1
