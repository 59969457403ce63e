"""Who may start an act on the phone, and what an unknown or wrong customer token gets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

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
    # None of it touched the live link.
    assert (await client.get(link["path"])).status_code == 200
