"""A safety exit through the phone's sync push reaches a person at once (004 §5.4.10.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy import func, select, update

from checklists.schema import Incident as IncidentDefinition
from service.common.actor import Role
from service.db.models import Incident, OutboxMessage, Territory, Visit, WorkOrder
from service.incidents.services import IncidentRouting, raise_incident
from service.settings import Settings
from tests.integration.builders import Builder
from tests.integration.incidents.conftest import Field, push, safety_exit

pytestmark = pytest.mark.asyncio
SAFETY = IncidentDefinition(kind="safety", notify=("supervisor",), fallback_notify=("security",))


def night_zone() -> str:
    """A fixed-offset zone where it is about 03:00 right now (Etc/GMT-N is UTC+N)."""
    hour = datetime.now(UTC).hour
    offset = (3 - hour) % 24
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


async def messages_for(build: Builder, field: Field) -> list[OutboxMessage]:
    async with build.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.event == "incident.raised",
                OutboxMessage.context["work_order_number"].astext == field.order.number,
            )
            .order_by(OutboxMessage.recipient_address)
        )
        return list(rows)


async def incidents_of(build: Builder, field: Field) -> list[Incident]:
    async with build.sessionmaker() as session:
        rows = await session.scalars(select(Incident).where(Incident.visit_id == field.visit.id))
        return list(rows)


async def test_supervisor_is_told_at_once_even_at_three_in_the_morning(
    client: Any, build: Builder, field: Field
) -> None:
    zone = night_zone()
    local_now = datetime.now(UTC).astimezone(ZoneInfo(zone))
    assert 2 <= local_now.hour <= 4, local_now  # the quiet hours would hold a normal message
    supervisor = await build.person(Role.SUPERVISOR, field.area.territory)
    second = await build.person(Role.SUPERVISOR, field.area.territory)
    await build.person(Role.SUPERVISOR, field.area.territory, active=False)  # not reachable
    # Last: building people merges the territory as it was loaded, zone included.
    async with build.sessionmaker() as session:
        await session.execute(
            update(Territory).where(Territory.id == field.area.territory.id).values(time_zone=zone)
        )
        await session.commit()

    results = (await push(client, field, safety_exit(field))).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert results[1]["result"]["incident"]["kind"] == "safety"

    [incident] = await incidents_of(build, field)
    assert (incident.kind, incident.outcome, incident.notified_role) == (
        "safety",
        "aborted_safety",
        "supervisor",
    )
    assert incident.reason == "Клиент угрожал"
    assert sorted(incident.notified_user_ids) == sorted([supervisor.user.id, second.user.id])
    assert incident.technician_id == field.technician.technician.id  # type: ignore[union-attr]
    assert incident.acknowledged_at is None

    messages = await messages_for(build, field)
    assert sorted(m.recipient_id for m in messages) == sorted(  # type: ignore[type-var]
        [supervisor.user.id, second.user.id]
    )
    async with build.sessionmaker() as session:
        db_now = await session.scalar(select(func.now()))
    assert db_now is not None
    for message in messages:
        assert message.urgent is True
        assert message.channel == "webhook"
        assert message.time_zone == zone
        # Due now, not at 09:00 local: nothing holds a safety message.
        assert message.next_attempt_at <= db_now
        assert message.context["technician"] == "Серікбаев Қанат"
    async with build.sessionmaker() as session:
        visit = await session.get_one(Visit, field.visit.id)
    assert visit.status == "aborted_safety"


async def test_no_supervisor_goes_to_the_security_desk(
    client: Any, build: Builder, field: Field
) -> None:
    # A coordinator of the territory is not who 004 §5.4.10.5 names: security is.
    await build.person(Role.COORDINATOR, field.area.territory)
    await build.person(Role.SUPERVISOR, field.area.territory, active=False)
    await push(client, field, safety_exit(field))
    [incident] = await incidents_of(build, field)
    assert incident.notified_role == "security"
    assert incident.notified_user_ids == []
    [message] = await messages_for(build, field)
    assert message.recipient_id is None
    assert message.recipient_address == f"security:{field.area.territory.code}"
    assert message.urgent is True


async def test_a_replayed_push_raises_one_incident_and_one_message(
    client: Any, build: Builder, field: Field
) -> None:
    supervisor = await build.person(Role.SUPERVISOR, field.area.territory)
    operations = safety_exit(field)
    first = (await push(client, field, operations)).json()["results"]
    assert [r["status"] for r in first] == ["applied", "applied"]
    for _ in range(3):
        again = (await push(client, field, operations)).json()["results"]
        assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    # The phone lost its queue and recorded the exit again under a new operation id.
    fresh = (await push(client, field, safety_exit(field)[1:])).json()["results"]
    assert fresh[0]["status"] == "conflict"
    assert len(await incidents_of(build, field)) == 1
    [message] = await messages_for(build, field)
    assert message.recipient_id == supervisor.user.id


async def test_a_configured_security_desk_gets_it_when_no_supervisor_is_reachable(
    build: Builder, field: Field, settings: Settings
) -> None:
    configured = msgspec.structs.replace(
        settings,
        notifications=msgspec.structs.replace(
            settings.notifications, security_desk="security-desk:almaty"
        ),
    )
    routing = IncidentRouting.from_settings(configured)
    async with build.sessionmaker() as session:
        incident_id = await raise_incident(
            session,
            definition=SAFETY,
            visit=await session.get_one(Visit, field.visit.id),
            order=await session.get_one(WorkOrder, field.order.id),
            outcome="aborted_safety",
            occurred_at=datetime.now(UTC),
            reason=None,
            routing=routing,
        )
        # Raised once: the same visit again (another device, a retry) adds nothing.
        again = await raise_incident(
            session,
            definition=SAFETY,
            visit=await session.get_one(Visit, field.visit.id),
            order=await session.get_one(WorkOrder, field.order.id),
            outcome="aborted_safety",
            occurred_at=datetime.now(UTC),
            reason=None,
            routing=routing,
        )
        await session.commit()
    assert incident_id is not None
    assert again is None
    [message] = await messages_for(build, field)
    assert message.recipient_address == "security-desk:almaty"
    assert message.urgent is True
