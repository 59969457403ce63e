"""Device-bound sessions, the day bundle, Idempotency-Key, and who may call the mobile API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from checklists import Template, compile_template
from mobile_api.idempotency import lock_key
from service.app import create_app
from service.common.actor import Role
from service.db.models import Device, IdempotencyKey
from service.settings import MobileSettings, Settings
from tests.browser.engine_walks import template_json
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, log_in, op

pytestmark = pytest.mark.asyncio


async def test_day_bundle_has_what_the_phone_needs_offline(client: Any, field: Field) -> None:
    response = await client.get("/mobile/v1/day", headers=field.phone.headers())
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert response.headers["etag"] == bundle["etag"]
    (visit,) = bundle["visits"]
    assert visit["visit_id"] == str(field.visit.id)
    assert visit["work_order_number"] == field.order.number
    assert visit["customer"] == {
        "name": "Нұрланова Әлия",
        "phone": "+77011234567",
        "language": "kk",
        "accessibility_needs": [],
    }
    assert set(visit["customer"]) == {"name", "phone", "language", "accessibility_needs"}
    pin = visit["checklist"]
    template = bundle["templates"][f"{pin['key']}@{pin['version']}"]
    assert template["key"] == "repair"
    assert bundle["photo_max_side_px"] == 1600  # NARYAD_PHOTO_MAX_SIDE's default
    unchanged = await client.get(
        "/mobile/v1/day", headers={**field.phone.headers(), "If-None-Match": bundle["etag"]}
    )
    assert unchanged.status_code == 304


async def test_another_photo_size_reaches_phones_holding_the_old_bundle(
    client: Any, settings: Settings, field: Field
) -> None:
    held = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    # The service restarted with NARYAD_PHOTO_MAX_SIDE=900; nothing else changed.
    restarted = create_app(
        msgspec.structs.replace(settings, mobile=MobileSettings(photo_max_side_px=900))
    )
    async with AsyncTestClient(app=restarted) as phone_after_restart:
        fresh = await phone_after_restart.get(
            "/mobile/v1/day", headers={**field.phone.headers(), "If-None-Match": held["etag"]}
        )
    assert fresh.status_code == 200
    assert fresh.json()["photo_max_side_px"] == 900
    assert fresh.json()["visits"] == held["visits"]
    assert fresh.headers["etag"] != held["etag"]


async def test_day_range_is_limited(client: Any, field: Field) -> None:
    today = datetime.now(UTC).date()
    week = await client.get(
        "/mobile/v1/day",
        params={"from": today.isoformat(), "to": (today + timedelta(days=6)).isoformat()},
        headers=field.phone.headers(),
    )
    assert week.status_code == 200
    too_long = await client.get(
        "/mobile/v1/day",
        params={"from": today.isoformat(), "to": (today + timedelta(days=7)).isoformat()},
        headers=field.phone.headers(),
    )
    assert too_long.status_code == 422
    problem(too_long)


async def test_revoked_device_can_do_nothing(client: Any, build: Builder, field: Field) -> None:
    supervisor = await build.person(Role.SUPERVISOR, field.area.territory)
    async with build.sessionmaker() as session:
        device = await session.scalar(
            select(Device).where(Device.device_id == field.phone.device_id)
        )
    assert device is not None
    listed = await client.get(
        "/api/v1/devices",
        params={"technician_id": str(field.technician.actor.technician_id)},
        headers=supervisor.headers,
    )
    assert [d["device_id"] for d in listed.json()] == [field.phone.device_id]
    revoked = await client.post(
        f"/api/v1/devices/{device.id}/revoke", json={"reason": "Утерян"}, headers=supervisor.headers
    )
    assert revoked.status_code == 200, revoked.text
    for call in (
        client.get("/mobile/v1/day", headers=field.phone.headers()),
        client.get("/mobile/v1/sync/pull", headers=field.phone.headers()),
        client.post(
            "/mobile/v1/sync/push",
            json={"operations": [op(field.visit.id, "note", {"text": "x"})]},
            headers=field.phone.headers(),
        ),
    ):
        response = await call
        assert response.status_code == 401, response.text
        problem(response)
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": field.phone.refresh_token}
    )
    assert refresh.status_code == 401
    again = await client.post(
        "/api/v1/auth/login",
        json={
            "username": field.technician.user.username,
            "password": "correct-horse-battery",
            "device_id": field.phone.device_id,
        },
    )
    assert again.status_code == 401
    other_phone = await log_in(client, field.technician)
    assert (await client.get("/mobile/v1/day", headers=other_phone.headers())).status_code == 200


async def test_who_may_call_the_mobile_api(client: Any, build: Builder, field: Field) -> None:
    visit_checklist = f"/mobile/v1/visits/{field.visit.id}/checklist"
    calls = [
        ("GET", "/mobile/v1/day"),
        ("GET", "/mobile/v1/sync/pull"),
        ("GET", visit_checklist),
        ("POST", "/mobile/v1/sync/push"),
    ]
    no_device_token = field.technician.token  # issued without a device
    for method, path in calls:
        kwargs: dict[str, Any] = (
            {"json": {"operations": [op(field.visit.id, "note", {"text": "x"})]}}
            if method == "POST"
            else {}
        )
        anonymous = await client.request(method, path, **kwargs)
        assert anonymous.status_code == 401, path
        dispatcher = await client.request(
            method, path, headers={**field.dispatcher.headers, "Idempotency-Key": "k"}, **kwargs
        )
        assert dispatcher.status_code == 403, (path, dispatcher.text)
        no_device = await client.request(
            method,
            path,
            headers={
                "Authorization": f"Bearer {no_device_token}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            **kwargs,
        )
        assert no_device.status_code == 401, path
    stranger = await build.technician_at(field.area, 0.5, 0.5)
    stranger_phone = await log_in(client, stranger)
    other = await client.get(visit_checklist, headers=stranger_phone.headers())
    assert other.status_code == 404
    mine = await client.get(visit_checklist, headers=field.phone.headers())
    assert mine.status_code == 200


async def test_idempotency_key_semantics(client: Any, build: Builder, field: Field) -> None:
    body = {"operations": [op(field.visit.id, "note", {"text": "Ключ"})]}
    missing = await client.post(
        "/mobile/v1/sync/push",
        json=body,
        headers={"Authorization": f"Bearer {field.phone.access_token}"},
    )
    assert missing.status_code == 400
    problem(missing)
    key = str(uuid.uuid4())
    first = await client.post("/mobile/v1/sync/push", json=body, headers=field.phone.headers(key))
    replay = await client.post("/mobile/v1/sync/push", json=body, headers=field.phone.headers(key))
    assert first.status_code == replay.status_code == 200
    assert replay.content == first.content  # the stored response, not a second run
    assert replay.headers["idempotent-replayed"] == "true"
    assert first.json()["results"][0]["status"] == "applied"
    other = await client.post(
        "/mobile/v1/sync/push",
        json={"operations": [op(field.visit.id, "note", {"text": "Другой"})]},
        headers=field.phone.headers(key),
    )
    assert other.status_code == 422
    problem(other)

    # A first request with this key is still running: its transaction holds the key's lock.
    in_flight = str(uuid.uuid4())
    raw = msgspec.json.encode(body)
    async with build.sessionmaker() as running:
        namespace, digest = lock_key(field.technician.user.id, in_flight)
        assert await running.scalar(select(func.pg_try_advisory_xact_lock(namespace, digest)))
        busy = await client.post(
            "/mobile/v1/sync/push",
            content=raw,
            headers={**field.phone.headers(in_flight), "Content-Type": "application/json"},
        )
        assert busy.status_code == 409
        assert busy.headers["retry-after"] == "1"
        problem(busy)
    # The first request died (its transaction ended without the answer): a retry runs it.
    retried = await client.post(
        "/mobile/v1/sync/push",
        content=raw,
        headers={**field.phone.headers(in_flight), "Content-Type": "application/json"},
    )
    assert retried.status_code == 200
    assert "idempotent-replayed" not in retried.headers


async def test_a_key_still_running_answers_409(client: Any, build: Builder, field: Field) -> None:
    body = {"operations": [op(field.visit.id, "note", {"text": "Параллельно"})]}
    key = str(uuid.uuid4())
    responses = await asyncio.gather(
        *(
            client.post("/mobile/v1/sync/push", json=body, headers=field.phone.headers(key))
            for _ in range(3)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 1
    assert set(codes) <= {200, 409}
    assert await build.count(IdempotencyKey, IdempotencyKey.key == key) == 1


async def test_day_bundle_template_is_what_engine_js_is_cross_checked_on(
    client: Any, field: Field
) -> None:
    """The phone's engine gets the template JSON the cross-check feeds it, and the site.

    tests/browser/test_engine_crosscheck.py gives engine.js a template's canonical JSON; the
    bundle carries exactly that (as JSON values) for the pinned content, whatever its version.
    """
    bundle = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    (visit,) = bundle["visits"]
    pin = visit["checklist"]
    shipped = bundle["templates"][f"{pin['key']}@{pin['version']}"]
    template = compile_template(msgspec.convert(shipped, Template))
    assert template.content_hash == pin["content_hash"]
    assert shipped == template_json(template)
    assert set(visit["location"]) == {"lat", "lon"}
