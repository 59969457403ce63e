"""SLA policies, calendars, holidays and territory profiles over HTTP; bad input writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from service.auth.actor import Role
from service.db.models import AuditEntry, SlaClock
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.sla.helpers import counts

pytestmark = pytest.mark.asyncio

POLICIES = "/api/v1/coordination/sla-policies"
CALENDARS = "/api/v1/coordination/calendars"
WEEK = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


def _code() -> str:
    return f"C{uuid.uuid4().hex[:8].upper()}"


async def test_seeded_defaults_are_listed(client: Any, build: Builder) -> None:
    coordinator = await build.person(Role.COORDINATOR, (await build.area()).territory)
    policies = (await client.get(POLICIES, headers=coordinator.headers)).json()["items"]
    catch_all = [p for p in policies if p["name"] == "По умолчанию" and p["work_type"] is None]
    assert len(catch_all) == 1
    assert policies[-1]["work_type"] is None  # most specific first, the catch-all last
    urgent = next(p for p in policies if p["name"] == "Ремонт, срочный")
    assert urgent["resolution_minutes"] == 480
    assert urgent["measure"] == "business"

    calendars = (await client.get(CALENDARS, headers=coordinator.headers)).json()["items"]
    kz = next(c for c in calendars if c["code"] == "KZ")
    assert "Asia/Almaty" in kz["zones"]
    assert kz["hours"][0] == {"weekday": 0, "start": "09:00", "end": "18:00"}
    days = (
        await client.get(
            f"{CALENDARS}/{kz['id']}/holidays", params={"year": 2026}, headers=coordinator.headers
        )
    ).json()["items"]
    nauryz = [d["date"] for d in days if d["date"].startswith("2026-03-2")]
    assert nauryz == ["2026-03-21", "2026-03-22", "2026-03-23", "2026-03-24", "2026-03-25"]
    ru = next(c for c in calendars if c["code"] == "RU")
    ru_days = (
        await client.get(
            f"{CALENDARS}/{ru['id']}/holidays", params={"year": 2026}, headers=coordinator.headers
        )
    ).json()["items"]
    short = {d["date"]: d["shorten_minutes"] for d in ru_days if d["kind"] == "short_day"}
    assert short == {"2026-04-30": 60, "2026-05-08": 60, "2026-06-11": 60, "2026-11-03": 60}


async def test_policy_crud_and_bad_input(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    body = {
        "name": "Монтаж, B2B, село",
        "work_type": "construction",
        "priority": "high",
        "segment": "b2b",
        "area_kind": "rural",
        "response_minutes": 120,
        "arrival_minutes": 600,
        "resolution_minutes": 4800,
    }
    before = await counts(build)
    for bad, status in (
        ({**body, "resolution_minutes": 0}, 400),
        ({**body, "response_minutes": -5}, 400),
        ({**body, "arrival_minutes": 6000}, 422),  # arrival after resolution
        ({**body, "warning_ratio": 1.5}, 400),
        ({**body, "measure": "lunar"}, 400),
        ({**body, "colour": "red"}, 400),
    ):
        response = await client.post(POLICIES, json=bad, headers=admin.headers)
        assert response.status_code == status, (bad, response.text)
        problem(response)
    assert await counts(build) == before

    created = await client.post(POLICIES, json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["measure"] == "business"
    assert policy["warning_ratio"] == 0.8
    after_create = await counts(build)
    duplicate = await client.post(POLICIES, json={**body, "name": "x"}, headers=admin.headers)
    assert duplicate.status_code == 409
    assert problem(duplicate)["code"] == "duplicate_policy"
    assert await counts(build) == after_create

    url = f"{POLICIES}/{policy['id']}"
    bad_patch = await client.patch(url, json={"response_minutes": 9999}, headers=admin.headers)
    assert bad_patch.status_code == 422
    changed = await client.patch(url, json={"resolution_minutes": 5400}, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["resolution_minutes"] == 5400
    async with build.sessionmaker() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_id == policy["id"])
            )
        ).all()
    assert actions == ["sla_policy.created", "sla_policy.updated"]
    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    assert (await client.get(url, headers=admin.headers)).status_code == 404


async def test_policy_change_marks_open_clocks_for_recompute(client: Any, build: Builder) -> None:
    area = await build.area()
    admin = await build.person(Role.ADMIN)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    created = await client.post(
        "/api/v1/work-orders",
        json={
            "type": "meter_check",
            "customer_id": str(area.customer.id),
            "site_id": str(area.site.id),
        },
        headers=dispatcher.headers,
    )
    order_id = uuid.UUID(created.json()["id"])
    seeded = next(
        p
        for p in (await client.get(POLICIES, headers=admin.headers)).json()["items"]
        if p["name"] == "Проверка прибора учёта"
    )
    response = await client.patch(
        f"{POLICIES}/{seeded['id']}", json={"name": seeded["name"]}, headers=admin.headers
    )
    assert response.status_code == 200
    async with build.sessionmaker() as session:
        pending = (
            await session.scalars(
                select(SlaClock.next_change_at).where(SlaClock.work_order_id == order_id)
            )
        ).all()
    assert len(pending) == 3
    assert all(p is not None for p in pending)


async def test_calendar_with_overlapping_holidays_is_refused(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    before = await counts(build)
    body = {
        "code": _code(),
        "name": "Тест",
        "country": "KZ",
        "hours": WEEK,
        "holidays": [
            {"date": "2026-03-21", "until": "2026-03-23", "name": "Наурыз мейрамы"},
            {"date": "2026-03-23", "name": "Повтор"},
        ],
    }
    response = await client.post(CALENDARS, json=body, headers=admin.headers)
    assert response.status_code == 422
    errors = problem(response)["errors"]
    assert errors[0]["field"] == "holidays[1]"
    assert "2026-03-23" in errors[0]["message"]
    for bad, status in (
        (
            {**body, "holidays": [], "hours": [{"weekday": 0, "start": "18:00", "end": "09:00"}]},
            422,
        ),
        (
            {
                **body,
                "holidays": [],
                "hours": [
                    {"weekday": 0, "start": "09:00", "end": "13:00"},
                    {"weekday": 0, "start": "12:00", "end": "18:00"},
                ],
            },
            422,
        ),
        ({**body, "holidays": [], "zones": ["Mars/Olympus"]}, 422),
        ({**body, "holidays": [], "zones": ["Asia/Almaty"]}, 409),  # the KZ calendar has it
        ({**body, "holidays": [], "hours": []}, 400),
        ({**body, "holidays": [{"date": "2026-05-01", "name": "x", "shorten_minutes": 60}]}, 422),
        ({**body, "holidays": [{"date": "2026-05-09", "until": "2026-05-01", "name": "x"}]}, 422),
        ({**body, "code": "KZ", "holidays": []}, 409),
    ):
        response = await client.post(CALENDARS, json=bad, headers=admin.headers)
        assert response.status_code == status, (bad, response.text)
        problem(response)
    assert await counts(build) == before


async def test_calendar_and_holiday_lifecycle(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    area = await build.area()
    created = await client.post(
        CALENDARS,
        json={
            "code": _code(),
            "name": "Тест",
            "country": "KZ",
            "hours": WEEK,
            "holidays": [
                {"date": "2027-01-01", "until": "2027-01-02", "name": "Новый год"},
                {"date": "2027-04-30", "name": "Сокращённый", "kind": "short_day"},
            ],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    calendar = created.json()
    assert calendar["holiday_count"] == 3
    url = f"{CALENDARS}/{calendar['id']}"

    before = await counts(build)
    overlap = await client.post(
        f"{url}/holidays",
        json={"items": [{"date": "2027-01-05", "name": "A"}, {"date": "2027-01-02", "name": "B"}]},
        headers=admin.headers,
    )
    assert overlap.status_code == 409
    assert "2027-01-02" in problem(overlap)["detail"]
    assert await counts(build) == before

    added = await client.post(
        f"{url}/holidays",
        json={
            "items": [
                {"date": "2027-01-09", "name": "Рабочая суббота", "kind": "working_day_transfer"}
            ]
        },
        headers=admin.headers,
    )
    assert added.status_code == 201, added.text
    assert [d["date"] for d in added.json()["items"]] == [
        "2027-01-01",
        "2027-01-02",
        "2027-01-09",
        "2027-04-30",
    ]
    wrong_year = await client.put(
        f"{url}/holidays/2027",
        json={"items": [{"date": "2028-01-01", "name": "x"}]},
        headers=admin.headers,
    )
    assert wrong_year.status_code == 422
    replaced = await client.put(
        f"{url}/holidays/2027",
        json={"items": [{"date": "2027-03-08", "name": "8 марта"}]},
        headers=admin.headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert [d["date"] for d in replaced.json()["items"]] == ["2027-03-08"]
    assert (
        await client.delete(f"{url}/holidays/2027-03-08", headers=admin.headers)
    ).status_code == 204
    assert (
        await client.delete(f"{url}/holidays/2027-03-08", headers=admin.headers)
    ).status_code == 404

    profile_url = f"/api/v1/coordination/territories/{area.territory.id}/profile"
    default = (await client.get(profile_url, headers=admin.headers)).json()
    assert default["effective_calendar_code"] == "KZ"  # by the territory's zone
    assert default["area_kind"] == "urban"
    set_profile = await client.put(
        profile_url,
        json={"calendar_id": calendar["id"], "area_kind": "rural"},
        headers=admin.headers,
    )
    assert set_profile.status_code == 200, set_profile.text
    assert set_profile.json()["effective_calendar_code"] == calendar["code"]
    unknown = await client.put(
        profile_url, json={"calendar_id": str(uuid.uuid4())}, headers=admin.headers
    )
    assert unknown.status_code == 422
    in_use = await client.delete(url, headers=admin.headers)
    assert in_use.status_code == 409
    renamed = await client.patch(url, json={"name": "Переименован"}, headers=admin.headers)
    assert renamed.json()["name"] == "Переименован"
    await client.put(profile_url, json={"area_kind": "urban"}, headers=admin.headers)
    assert (await client.delete(url, headers=admin.headers)).status_code == 204


async def test_holidays_at_the_end_of_the_calendar_are_not_a_server_error(
    client: Any, build: Builder
) -> None:
    # Expanding a range used to step one day past its last date: 9999-12-31 overflowed (500).
    admin = await build.person(Role.ADMIN)
    created = await client.post(
        CALENDARS,
        json={
            "code": _code(),
            "name": "Край",
            "country": "KZ",
            "hours": WEEK,
            "holidays": [{"date": "9999-12-30", "until": "9999-12-31", "name": "Последний"}],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["holiday_count"] == 2
    url = f"{CALENDARS}/{created.json()['id']}/holidays"
    added = await client.post(
        url, json={"items": [{"date": "9999-12-31", "name": "Снова"}]}, headers=admin.headers
    )
    assert added.status_code == 409
    problem(added)
