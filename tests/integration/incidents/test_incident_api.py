"""The incidents API: scoped to the caller's territories, acknowledged once with a comment."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import AuditEntry, Incident
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.incidents.conftest import Field, push, safety_exit

pytestmark = pytest.mark.asyncio


async def raised(client: Any, build: Builder, field: Field) -> uuid.UUID:
    """A safety exit on the field visit; the id of its incident."""
    await push(client, field, safety_exit(field))
    async with build.sessionmaker() as session:
        incident_id = await session.scalar(
            select(Incident.id).where(Incident.visit_id == field.visit.id)
        )
    assert incident_id is not None
    return incident_id


async def test_who_may_see_and_acknowledge(client: Any, build: Builder, field: Field) -> None:
    incident_id = await raised(client, build, field)
    territory = field.area.territory
    other = await build.area()
    url = f"/api/v1/incidents/{incident_id}"
    ack = {"comment": "Позвонил специалисту, он в безопасности"}

    # Anonymous: 401 everywhere.
    for response in (
        await client.get("/api/v1/incidents"),
        await client.get(url),
        await client.post(f"{url}/acknowledge", json=ack),
    ):
        assert response.status_code == 401
        problem(response)

    # A technician (even the one who raised it) is not staff: 403.
    for response in (
        await client.get("/api/v1/incidents", headers=field.technician.headers),
        await client.get(url, headers=field.technician.headers),
        await client.post(f"{url}/acknowledge", json=ack, headers=field.technician.headers),
    ):
        assert response.status_code == 403
        problem(response)

    # Staff of another territory: it does not exist for them.
    for role in (Role.SUPERVISOR, Role.COORDINATOR, Role.DISPATCHER):
        stranger = await build.person(role, other.territory)
        listed = await client.get("/api/v1/incidents", headers=stranger.headers)
        assert listed.status_code == 200
        assert incident_id not in {uuid.UUID(i["id"]) for i in listed.json()["items"]}
        assert (await client.get(url, headers=stranger.headers)).status_code == 404
        refused = await client.post(f"{url}/acknowledge", json=ack, headers=stranger.headers)
        assert refused.status_code == 404
        problem(refused)

    # Staff of the territory and admins see it.
    admin = await build.person(Role.ADMIN)
    for role in (Role.SUPERVISOR, Role.COORDINATOR, Role.DISPATCHER):
        member = await build.person(role, territory)
        for person in (member, admin):
            listed = await client.get(
                "/api/v1/incidents",
                params={"territory": str(territory.id), "status": "pending"},
                headers=person.headers,
            )
            assert listed.status_code == 200, listed.text
            [item] = listed.json()["items"]
            assert item["id"] == str(incident_id)
            assert item["work_order_number"] == field.order.number
            assert (item["kind"], item["outcome"]) == ("safety", "aborted_safety")
            assert item["technician_name"] == "Серікбаев Қанат"
            assert item["acknowledged_at"] is None
            got = await client.get(url, headers=person.headers)
            assert got.status_code == 200
            assert got.json() == item


async def test_acknowledge_needs_a_comment_and_happens_once(
    client: Any, build: Builder, field: Field
) -> None:
    incident_id = await raised(client, build, field)
    supervisor = await build.person(Role.SUPERVISOR, field.area.territory)
    url = f"/api/v1/incidents/{incident_id}/acknowledge"
    audit_before = await build.count(AuditEntry, AuditEntry.entity_id == str(incident_id))

    for body in ({"comment": ""}, {"comment": "   \n "}, {}):
        refused = await client.post(url, json=body, headers=supervisor.headers)
        assert refused.status_code == 422, refused.text
        assert problem(refused)["errors"][0]["field"] == "comment"
    unknown_field = await client.post(
        url, json={"comment": "ok", "extra": 1}, headers=supervisor.headers
    )
    assert unknown_field.status_code in (400, 422)
    problem(unknown_field)
    too_long = await client.post(url, json={"comment": "я" * 2001}, headers=supervisor.headers)
    assert too_long.status_code == 422
    problem(too_long)
    # Nothing was written by the refused attempts.
    async with build.sessionmaker() as session:
        incident = await session.get_one(Incident, incident_id)
    assert (incident.acknowledged_at, incident.acknowledged_by, incident.ack_comment) == (
        None,
        None,
        None,
    )
    assert await build.count(AuditEntry, AuditEntry.entity_id == str(incident_id)) == audit_before

    done = await client.post(
        url, json={"comment": "  Связался, специалист уехал  "}, headers=supervisor.headers
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["ack_comment"] == "Связался, специалист уехал"
    assert body["acknowledged_by"] == str(supervisor.user.id)
    assert body["acknowledged_at"] is not None
    async with build.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity_id == str(incident_id),
                AuditEntry.action == "incident.acknowledged",
            )
        )
    assert entry is not None
    assert entry.actor_user_id == supervisor.user.id

    again = await client.post(url, json={"comment": "ещё раз"}, headers=supervisor.headers)
    assert again.status_code == 409
    assert problem(again)["code"] == "already_acknowledged"
    pending = await client.get(
        "/api/v1/incidents",
        params={"territory": str(field.area.territory.id), "status": "pending"},
        headers=supervisor.headers,
    )
    assert pending.json()["items"] == []
    acknowledged = await client.get(
        "/api/v1/incidents",
        params={"territory": str(field.area.territory.id), "status": "acknowledged"},
        headers=supervisor.headers,
    )
    assert [i["id"] for i in acknowledged.json()["items"]] == [str(incident_id)]


async def test_unknown_incident_and_bad_parameters(client: Any, build: Builder) -> None:
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    missing = await client.get(f"/api/v1/incidents/{uuid.uuid4()}", headers=supervisor.headers)
    assert missing.status_code == 404
    problem(missing)
    for params in ({"status": "open"}, {"limit": "0"}, {"cursor": "garbage"}):
        bad = await client.get("/api/v1/incidents", params=params, headers=supervisor.headers)
        assert bad.status_code in (400, 422), (params, bad.text)
        problem(bad)
