"""Staff read the links a customer was sent (copy of the act, rating), and nobody else does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import OutboxMessage
from tests.conftest import problem
from tests.e2e.test_signing_rules import _signing_link
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio


async def _sms_link(build: Builder, event: str, field_name: str, customer_id: Any) -> str:
    async with build.sessionmaker() as session:
        message = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event == event, OutboxMessage.recipient_id == customer_id
            )
        )
    assert message is not None
    return str(message.context[field_name])


async def test_staff_of_the_territory_read_the_copy_and_rating_links(
    client: Any, build: Builder, field: Field
) -> None:
    url = f"/api/v1/visits/{field.visit.id}/customer-links"
    dispatcher = field.dispatcher
    before = await client.get(url, headers=dispatcher.headers)
    assert before.status_code == 200, before.text
    assert before.json() == {
        "visit_id": str(field.visit.id),
        "work_order_id": str(field.order.id),
        "act_id": None,
        "copy": None,
        "rating": None,
    }

    link = await _signing_link(client, field)
    signed = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    phone = Phone(client, field.phone.access_token, str(field.visit.id), {})
    ended = await phone.push(
        phone.op("checklist_answer", {"step_id": "thanked", "value": True}),
        phone.op("outcome", {"outcome": "completed"}),
    )
    assert [r["status"] for r in ended] == ["applied", "applied"], ended

    coordinator = await build.person(Role.COORDINATOR, field.area.territory)
    for person in (dispatcher, coordinator, await build.person(Role.ADMIN)):
        response = await client.get(url, headers=person.headers)
        assert response.status_code == 200, response.text
        links = response.json()
        assert links["act_id"] == link["act_id"] == signed.json()["act_id"]
        # Exactly the links the customer's SMS messages carry.
        assert links["copy"]["url"] == signed.json()["copy_url"]
        assert links["copy"]["url"] == await _sms_link(
            build, "act.signed", "act_url", field.area.customer.id
        )
        assert links["rating"]["url"] == await _sms_link(
            build, "rating.requested", "rating_url", field.area.customer.id
        )
        assert links["copy"]["state"] == links["rating"]["state"] == "open"
    # The rating link shown works: the customer's page opens with it.
    rating_path = links["rating"]["url"].split("127.0.0.1:8000", 1)[-1]
    assert (await client.get(rating_path)).status_code == 200


async def test_customer_links_are_staff_only_and_in_scope(
    client: Any, build: Builder, field: Field
) -> None:
    url = f"/api/v1/visits/{field.visit.id}/customer-links"
    anonymous = await client.get(url)
    assert anonymous.status_code == 401
    problem(anonymous)
    # The technician who did the visit, and a supervisor of its territory: not theirs to read.
    for person in (field.technician, await build.person(Role.SUPERVISOR, field.area.territory)):
        refused = await client.get(url, headers=person.headers)
        assert refused.status_code == 403
        problem(refused)
    # Staff of another territory: the visit does not exist for them.
    other = await build.area()
    for role in (Role.DISPATCHER, Role.COORDINATOR):
        stranger = await build.person(role, other.territory)
        hidden = await client.get(url, headers=stranger.headers)
        assert hidden.status_code == 404
        problem(hidden)
