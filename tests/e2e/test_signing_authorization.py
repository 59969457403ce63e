"""Who may start an act on the phone, and what an unknown or wrong customer token gets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from service.db.models import Act, CustomerLink
from tests.conftest import problem
from tests.e2e.test_signing_rules import _signing_link
from tests.e2e.visit_flow import signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, log_in

pytestmark = pytest.mark.asyncio


async def test_only_the_visit_technician_starts_its_act(
    client: Any, build: Builder, field: Field
) -> None:
    path = f"/mobile/v1/visits/{field.visit.id}/acts"
    anonymous = await client.post(path, json={})
    assert anonymous.status_code == 401
    problem(anonymous)
    dispatcher = await log_in(client, field.dispatcher)
    staff = await client.post(path, json={}, headers=dispatcher.headers())
    assert staff.status_code == 403, staff.text
    problem(staff)
    colleague = await log_in(client, await build.technician_at(field.area, 0.5, 0.5))
    other = await client.post(path, json={}, headers=colleague.headers())
    assert other.status_code == 404, other.text
    problem(other)
    unknown = await client.post(
        f"/mobile/v1/visits/{uuid.uuid4()}/acts", json={}, headers=field.phone.headers()
    )
    assert unknown.status_code == 404
    problem(unknown)
    assert await build.count(Act, Act.visit_id == field.visit.id) == 0
    assert await build.count(CustomerLink, CustomerLink.visit_id == field.visit.id) == 0


async def test_unknown_and_misused_tokens_are_404(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    sha = link["snapshot_sha256"]
    token = link["path"].rsplit("/", 1)[-1]
    for path in ("/mobile/v1/sign/" + "x" * 43, link["path"] + "x"):
        # The page a customer's browser opens answers an HTML page, never JSON.
        page = await client.get(path)
        assert page.status_code == 404, page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        calls = [
            await client.post(path, json=signature_body(sha)),
            await client.post(path + "/otp"),
            await client.post(path + "/refuse", json={"reason": "Не согласен"}),
        ]
        for response in calls:
            assert response.status_code == 404, (path, response.text)
            problem(response)
    # A signing token is not a copy token.
    copy = await client.get(f"/mobile/v1/acts/copy/{token}", follow_redirects=False)
    assert copy.status_code == 404
    assert copy.headers["content-type"] == "text/html; charset=utf-8"
    # Nor does it draw a copy link's QR code; neither does an unknown token.
    for qr_token in (token, "y" * 43):
        qr = await client.get(f"/mobile/v1/acts/copy/{qr_token}/qr.svg")
        assert qr.status_code == 404, qr.text
        assert "svg" not in qr.headers["content-type"]
    # None of it touched the live link.
    assert (await client.get(link["path"])).status_code == 200


async def test_an_expired_copy_link_draws_no_qr_code(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    signed = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    copy_path = signed.json()["copy_url"].split("127.0.0.1:8000", 1)[-1]
    live = await client.get(copy_path + "/qr.svg")
    assert live.status_code == 200, live.text
    assert live.headers["content-type"].startswith("image/svg+xml")
    async with build.sessionmaker() as session, session.begin():
        await session.execute(
            update(CustomerLink)
            .where(CustomerLink.purpose == "copy", CustomerLink.act_id == link["act_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    expired = await client.get(copy_path + "/qr.svg")
    assert 400 <= expired.status_code < 500, expired.text
    assert "svg" not in expired.headers["content-type"]
