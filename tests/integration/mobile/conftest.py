"""Mobile fixtures: a technician logged in from a phone, with a visit today."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.common.actor import Role
from tests.integration.builders import PASSWORD, Area, Builder, Person


@dataclass
class Phone:
    """A technician's app session."""

    person: Person
    device_id: str
    access_token: str
    refresh_token: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        """Bearer token, and an Idempotency-Key (new unless given)."""
        return {
            "Authorization": f"Bearer {self.access_token}",
            "Idempotency-Key": key or str(uuid.uuid4()),
        }


async def log_in(client: Any, person: Person, device_id: str | None = None) -> Phone:
    """Log in through the API from a device."""
    device = device_id or f"android-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/api/v1/auth/login",
        json={
            "username": person.user.username,
            "password": PASSWORD,
            "device_id": device,
            "app_version": "2.3.1",
        },
    )
    assert response.status_code == 200, response.text
    pair = response.json()
    return Phone(person, device, pair["access_token"], pair["refresh_token"])


@dataclass
class Field:
    """A territory, its dispatcher, a technician on a phone and their visit in progress window."""

    area: Area
    dispatcher: Person
    technician: Person
    phone: Phone
    order: Any
    visit: Any


@pytest.fixture
async def field(client: Any, build: Builder) -> Field:
    """A planned repair visit for a logged-in technician, window around now."""
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="scheduled")
    start = datetime.now(UTC) - timedelta(minutes=30)
    visit = await build.visit(order, technician.technician, start=start, hours=3)
    phone = await log_in(client, technician)
    return Field(area, dispatcher, technician, phone, order, visit)


def op(
    visit_id: Any,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    minutes: float = 0,
    location: dict[str, float] | None = None,
    op_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """One sync operation recorded ``minutes`` after a fixed moment."""
    moment = (
        datetime.now(UTC).replace(microsecond=0)
        - timedelta(minutes=20)
        + timedelta(minutes=minutes)
    )
    body: dict[str, Any] = {
        "id": str(op_id or uuid.uuid4()),
        "type": kind,
        "visit_id": str(visit_id),
        "device_time": moment.isoformat(),
        "payload": payload or {},
    }
    if location is not None:
        body["location"] = location
    return body
