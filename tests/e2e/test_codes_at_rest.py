"""A one-time signing code is kept only as a keyed hash, and leaves the outbox once sent."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from service.db.engine import make_sessionmaker
from service.db.models import ActSignature, CustomerLink, OutboxMessage
from service.execution.signing import code_hash, otp_key
from service.notifications.channels import build_channels
from service.notifications.worker import Worker
from service.settings import Settings
from tests.e2e.test_signing_rules import _signing_link
from tests.e2e.visit_flow import signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio


async def test_the_code_is_hashed_with_a_key_and_purged_once_sent(
    client: Any, build: Builder, field: Field, settings: Settings
) -> None:
    link = await _signing_link(client, field)
    assert (await client.post(link["path"] + "/otp")).status_code == 202
    async with build.sessionmaker() as session:
        row = await session.scalar(
            select(CustomerLink).where(CustomerLink.act_id == link["act_id"])
        )
        assert row is not None
        # This link's message is the one whose code matches its hash: other tests' messages
        # may be queued too.
        key = otp_key(settings.auth.jwt_secret)
        pending = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.event == "otp.sent", OutboxMessage.status == "pending"
            )
        )
        message = next(
            m for m in pending if code_hash(key, row.id, m.context["code"]) == row.otp_hash
        )
        code = message.context["code"]
    assert row is not None
    assert row.otp_hash is not None
    # Not the code, not a plain hash anyone could reverse from a million guesses.
    assert code not in json.dumps([str(v) for v in row.__dict__.values()])
    assert row.otp_hash != hashlib.sha256(f"{row.id}:{code}".encode()).hexdigest()
    assert row.otp_hash == code_hash(otp_key(settings.auth.jwt_secret), row.id, code)

    # The worker sends it; the outbox keeps no copy.
    engine = create_async_engine(settings.database.url, pool_size=2)
    channels = build_channels(settings.notifications)
    try:
        worker = Worker.from_settings(make_sessionmaker(engine), channels, settings.notifications)
        outcomes = await worker.drain()
    finally:
        await channels.aclose()
        await engine.dispose()
    assert message.id in {o.id for o in outcomes if o.status == "delivered"}
    async with build.sessionmaker() as session:
        sent = await session.get_one(OutboxMessage, message.id)
    assert sent.status == "delivered"
    assert "code" not in sent.context
    assert code not in json.dumps(sent.context)

    # The customer still signs with the code from the SMS.
    signed = await client.post(
        link["path"], json={**signature_body(link["snapshot_sha256"]), "otp": code}
    )
    assert signed.status_code in (200, 201), signed.text
    async with build.sessionmaker() as session:
        signature = await session.scalar(
            select(ActSignature).where(ActSignature.act_id == link["act_id"])
        )
    assert signature is not None
    assert signature.otp_verified
