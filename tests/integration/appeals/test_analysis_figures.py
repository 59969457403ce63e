"""Every figure of GET /api/v1/appeals/analysis against a hand-written SQL count.

A known mix of appeals on a database of the test's own: two territories of the coordinator and
one outside them, two work types, two technicians, answers on time and late, a refusal, a
repeat complaint, open ones, and kinds that are not complaints.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text, update

from service.common.actor import Role
from service.db.models import Appeal
from tests.integration.appeals.helpers import register_id
from tests.integration.builders import Builder, Person

pytestmark = pytest.mark.asyncio

BASE = "/api/v1/appeals"
# The hand-written counts, over the coordinator's territories (:mine), registered in the
# default period (the last 90 days: everything here was registered just now).
# Spelled out in full, not composed: each is read as it runs.
TOTALS = {
    "appeals": "SELECT count(*) FROM appeals a WHERE a.territory_id = ANY(CAST(:mine AS uuid[]))",
    "complaints": (
        "SELECT count(*) FROM appeals a WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim')"
    ),
    "closed": (
        "SELECT count(*) FROM appeals a WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.closed_at IS NOT NULL"
    ),
    "closed_on_time": (
        "SELECT count(*) FROM appeals a WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.closed_at <= a.due_at"
    ),
    "repeat_complaints": (
        "SELECT count(*) FROM appeals a WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim') AND a.repeat_of_id IS NOT NULL"
    ),
    "complaints_without_reason": (
        "SELECT count(*) FROM appeals a WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim') AND a.reason_codes = '{}'"
    ),
}
GROUPED = {
    "by_reason": (
        "SELECT code, count(*) FROM appeals a, unnest(a.reason_codes) AS code "
        "WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim') "
        "GROUP BY code"
    ),
    "by_territory": (
        "SELECT t.code, count(*) FROM appeals a JOIN territories t ON t.id = a.territory_id "
        "WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim') "
        "GROUP BY t.code"
    ),
    "by_work_type": (
        "SELECT o.type, count(*) FROM appeals a JOIN work_orders o ON o.id = a.work_order_id "
        "WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim') "
        "GROUP BY o.type"
    ),
    "by_technician": (
        "SELECT v.technician_id, count(*) FROM appeals a JOIN visits v ON v.id = a.visit_id "
        "WHERE a.territory_id = ANY(CAST(:mine AS uuid[])) "
        "AND a.kind IN ('complaint', 'quality_claim') "
        "GROUP BY v.technician_id"
    ),
}


async def decide(client: Any, who: Person, appeal: str, codes: list[str], how: str) -> None:
    response = await client.post(
        f"{BASE}/{appeal}/decision",
        json={"decision": how, "reasons": "Проверено по журналу.", "reason_codes": codes},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text


async def answer(client: Any, who: Person, appeal: str) -> None:
    response = await client.post(
        f"{BASE}/{appeal}/answer", json={"merits": "Ответ по существу."}, headers=who.headers
    )
    assert response.status_code == 200, response.text


async def test_analysis_figures_match_a_direct_sql_count(
    fresh_client: Any, fresh_build: Builder
) -> None:
    client, build = fresh_client, fresh_build
    north, south, elsewhere = await build.area(), await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, north.territory, south.territory)
    stranger = await build.person(Role.COORDINATOR, elsewhere.territory)
    tech_n = await build.person(Role.TECHNICIAN, north.territory)
    tech_s = await build.person(Role.TECHNICIAN, south.territory)
    assert tech_n.technician is not None
    assert tech_s.technician is not None
    repair = await build.order(north, type="repair")
    install = await build.order(north, type="installation")
    meter = await build.order(south, type="meter_check")
    visit_n = await build.visit(repair, tech_n.technician)
    visit_s = await build.visit(meter, tech_s.technician)

    # North: a complaint answered on time; the same customer's repeat, answered late; a claim
    # on quality still open; a question answered (not a complaint).
    first = await register_id(
        client, coordinator, north, work_order_id=repair.id, visit_id=visit_n.id
    )
    await decide(client, coordinator, first, ["missed_visit", "staff_conduct"], "unjustified")
    await answer(client, coordinator, first)
    repeat = await register_id(
        client, coordinator, north, work_order_id=repair.id, visit_id=visit_n.id
    )
    await decide(client, coordinator, repeat, ["missed_visit"], "unjustified")
    async with build.sessionmaker() as session:
        # Its deadline already passed when it is answered: a late answer.
        await session.execute(
            update(Appeal)
            .where(Appeal.id == repeat)
            .values(
                due_at=text("now() - interval '2 hours'"),
                warning_at=text("now() - interval '3 hours'"),
            )
        )
        await session.commit()
    await answer(client, coordinator, repeat)
    claim = await register_id(client, coordinator, north, "quality_claim", work_order_id=install.id)
    await decide(client, coordinator, claim, ["poor_quality"], "partly")
    question = await register_id(client, coordinator, north, "question")
    await answer(client, coordinator, question)
    # South: a complaint refused on a listed ground (closed on time), a request still open.
    refused = await register_id(
        client, coordinator, south, work_order_id=meter.id, visit_id=visit_s.id
    )
    await decide(client, coordinator, refused, ["damage"], "partly")
    response = await client.post(
        f"{BASE}/{refused}/refusal", json={"ground": "abusive"}, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text
    await register_id(client, coordinator, south, "request")
    # Elsewhere: outside the coordinator's territories, in none of their figures.
    other = await register_id(client, stranger, elsewhere)
    await decide(client, stranger, other, ["missed_visit"], "unjustified")
    await answer(client, stranger, other)

    response = await client.get(f"{BASE}/analysis", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    figures = response.json()

    mine = [north.territory.id, south.territory.id]
    async with build.sessionmaker() as session:

        async def one(sql: str) -> int:
            return int((await session.execute(text(sql), {"mine": mine})).scalar_one())

        async def grouped(sql: str) -> list[dict[str, Any]]:
            rows = (await session.execute(text(sql), {"mine": mine})).all()
            ordered = sorted(((str(k), int(n)) for k, n in rows), key=lambda r: (-r[1], r[0]))
            return [{"key": k, "complaints": n} for k, n in ordered]

        expected = {name: await one(sql) for name, sql in TOTALS.items()}
        expected |= {name: await grouped(sql) for name, sql in GROUPED.items()}
    for name, value in expected.items():
        if name in GROUPED:  # the rows also carry names (checked below)
            found = [{"key": r["key"], "complaints": r["complaints"]} for r in figures[name]]
            assert found == value, (name, found, value)
        else:
            assert figures[name] == value, (name, figures[name], value)
    assert figures["on_time_share"] == round(expected["closed_on_time"] / expected["closed"], 4)

    # And the mix is what the test meant to build (the SQL above is not vacuous).
    assert (figures["appeals"], figures["complaints"], figures["closed"]) == (6, 4, 4)
    assert figures["closed_on_time"] == 3  # the repeat was answered late
    assert figures["on_time_share"] == 0.75
    # The same customer's second complaint and their claim on quality both repeat the first.
    assert figures["repeat_complaints"] == 2
    assert figures["by_reason"][0] == {"key": "missed_visit", "complaints": 2, "name": None}
    assert {r["key"] for r in figures["by_work_type"]} == {"repair", "installation", "meter_check"}
    assert {r["key"]: r["complaints"] for r in figures["by_technician"]} == {
        str(tech_n.technician.id): 2,
        str(tech_s.technician.id): 1,
    }
    # Names for people: the territory's and the technician's; none for codes.
    assert {r["name"] for r in figures["by_territory"]} == {north.territory.name}
    assert {r["name"] for r in figures["by_technician"]} == {tech_n.technician.full_name}
    assert {r["name"] for r in figures["by_reason"]} == {None}
    # Everything was due weeks ahead: nothing is due in the period, nothing overdue, except
    # the repeat, whose deadline was moved two hours back before its (late) answer.
    assert (figures["due"], figures["due_answered_on_time"], figures["overdue_open"]) == (1, 0, 0)
    assert figures["due_on_time_share"] == 0.0
    # The customer who complained again, with the complaints their repeats repeat.
    assert len(figures["repeat_customers"]) == 1
    customer = figures["repeat_customers"][0]
    assert customer["customer_id"] == str(north.customer.id)
    assert customer["name"] == north.customer.full_name
    assert customer["complaints"] == 3
    assert [a["id"] for a in customer["appeals"]] == [first, repeat, claim]

    # The stranger sees only their own territory's complaint.
    theirs = (await client.get(f"{BASE}/analysis", headers=stranger.headers)).json()
    assert (theirs["appeals"], theirs["complaints"], theirs["closed_on_time"]) == (1, 1, 1)
