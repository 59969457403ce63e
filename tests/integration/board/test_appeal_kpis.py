"""The appeals family of GET /api/v1/coordination/kpis against hand-written SQL, on random data.

Random appeals (seeded) over two territories of the coordinator and one outside them: kinds,
registration and due times before, inside and after the period, answered on time, late or not
yet, reason codes, repeats, visits of two technicians. Every figure is counted again here in
plain SQL over the same rows, for the whole scope, one territory and one technician.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from service.common.actor import Role
from service.db.models import Appeal
from tests.conftest import problem
from tests.integration.builders import Area, Builder, Person

pytestmark = pytest.mark.asyncio

KPIS = "/api/v1/coordination/kpis"
KINDS = ("question", "request", "complaint", "quality_claim")
CODES = ("missed_visit", "poor_quality", "staff_conduct", "damage", "deadline", "other")
# Every hand-written count: over :mine, optionally one territory (:territory) and one
# technician's visits (:technician); the period [:start, :end); "now" is :now.
SCOPE = (
    "a.territory_id = ANY(CAST(:mine AS uuid[])) "
    "AND (CAST(:territory AS uuid) IS NULL OR a.territory_id = CAST(:territory AS uuid)) "
    "AND (CAST(:technician AS uuid) IS NULL OR a.visit_id IN "
    "(SELECT v.id FROM visits v WHERE v.technician_id = CAST(:technician AS uuid)))"
)
REGISTERED = "a.registered_at >= :start AND a.registered_at < :end"
COMPLAINT = "a.kind IN ('complaint', 'quality_claim')"
DUE = "a.due_at >= :start AND a.due_at < :end AND (a.closed_at IS NOT NULL OR a.due_at <= :now)"
TOTALS = {
    "registered": f"{REGISTERED}",
    "complaints": f"{REGISTERED} AND {COMPLAINT}",
    "repeat_complaints": f"{REGISTERED} AND {COMPLAINT} AND a.repeat_of_id IS NOT NULL",
    "due": DUE,
    "answered_on_time": f"{DUE} AND a.closed_at <= a.due_at",
    "overdue_open": "a.closed_at IS NULL AND a.due_at <= :now",
}
REASONS = (
    "SELECT code, count(*) AS n FROM appeals a, unnest(a.reason_codes) AS code "  # noqa: S608
    f"WHERE {SCOPE} AND {REGISTERED} AND {COMPLAINT} GROUP BY code ORDER BY n DESC, code LIMIT 5"
)


def _away_from(now: datetime, value: datetime) -> datetime:
    """A time at least an hour from ``now``, so the service's clock and ours agree."""
    return value + timedelta(hours=2) if abs(value - now) < timedelta(hours=1) else value


async def _random_appeals(
    build: Builder, areas: list[Area], visits: dict[uuid.UUID, list[uuid.UUID]], now: datetime
) -> int:
    rng = random.Random(20261205)
    made = 0
    async with build.sessionmaker() as session:
        earlier: dict[uuid.UUID, list[uuid.UUID]] = {}
        for area in areas:
            for _ in range(60):
                kind = rng.choice(KINDS)
                registered = _away_from(now, now - timedelta(hours=rng.randint(2, 24 * 70)))
                due = _away_from(now, registered + timedelta(hours=rng.randint(24, 24 * 30)))
                closed = None
                if rng.random() < 0.6:
                    closed = registered + timedelta(hours=rng.randint(1, 24 * 35))
                    closed = None if closed >= now - timedelta(hours=1) else closed
                complaint = kind in ("complaint", "quality_claim")
                history = earlier.setdefault(area.customer.id, [])
                appeal_id = uuid.uuid4()
                choices = visits[area.territory.id]
                visit = rng.choice(choices) if choices and rng.random() < 0.7 else None
                session.add(
                    Appeal(
                        id=appeal_id,
                        number=f"A-T-{uuid.uuid4().hex[:12]}",
                        territory_id=area.territory.id,
                        kind=kind,
                        channel="phone",
                        reply_channel="sms",
                        language="ru",
                        customer_id=area.customer.id,
                        visit_id=visit,
                        author_name="Иванова Мария",
                        contact_phone="+77011234567",
                        text="Жалоба",
                        state="answered" if closed else "in_progress",
                        registered_at=registered,
                        due_at=due,
                        warning_at=due - timedelta(hours=12),
                        max_due_at=due + timedelta(days=20),
                        competence_due_at=registered + timedelta(days=5),
                        decision="unjustified" if complaint else None,
                        decision_reasons="Проверено." if complaint else None,
                        reason_codes=rng.sample(CODES, rng.randint(0, 3)) if complaint else [],
                        answer_text="Ответ." if closed else None,
                        answered_at=closed,
                        closed_at=closed,
                        status_token_hash=uuid.uuid4().hex * 2,
                        repeat_of_id=rng.choice(history)
                        if complaint and history and rng.random() < 0.5
                        else None,
                    )
                )
                await session.flush()
                if complaint:
                    history.append(appeal_id)
                made += 1
        await session.commit()
    return made


async def _expected(
    build: Builder, mine: list[uuid.UUID], params: dict[str, Any]
) -> dict[str, Any]:
    bound = {"mine": mine, "territory": None, "technician": None, **params}
    async with build.sessionmaker() as session:
        figures: dict[str, Any] = {}
        for name, condition in TOTALS.items():
            sql = f"SELECT count(*) FROM appeals a WHERE {SCOPE} AND {condition}"  # noqa: S608
            figures[name] = int((await session.execute(text(sql), bound)).scalar_one())
        rows = (await session.execute(text(REASONS), bound)).all()
    due, on_time, complaints = figures["due"], figures["answered_on_time"], figures["complaints"]
    figures["on_time_share"] = round(on_time / due, 4) if due else None
    figures["top_reasons"] = [
        {"code": code, "complaints": n, "share": round(n / complaints, 4)} for code, n in rows
    ]
    return figures


async def _kpis(client: Any, who: Person, **params: str) -> dict[str, Any]:
    response = await client.get(KPIS, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["appeals"])


async def test_appeal_kpis_match_a_direct_sql_count(
    fresh_client: Any, fresh_build: Builder
) -> None:
    client, build = fresh_client, fresh_build
    north, south, elsewhere = await build.area(), await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, north.territory, south.territory)
    dispatcher = await build.person(Role.DISPATCHER, south.territory)
    tech_n = await build.person(Role.TECHNICIAN, north.territory)
    tech_s = await build.person(Role.TECHNICIAN, south.territory)
    assert tech_n.technician is not None
    assert tech_s.technician is not None
    visits: dict[uuid.UUID, list[uuid.UUID]] = {}
    # Windows of their own, so one technician's visits never overlap.
    slots = (datetime.now(UTC) + timedelta(days=1 + i) for i in range(10))
    for area, tech in ((north, tech_n), (south, tech_s), (elsewhere, tech_s)):
        visits[area.territory.id] = [
            (await build.visit(await build.order(area), tech.technician, start=slot)).id  # type: ignore[arg-type]
            for slot in (next(slots), next(slots))
        ]
    now = datetime.now(UTC).replace(microsecond=0)
    assert await _random_appeals(build, [north, south, elsewhere], visits, now) == 180
    start, end = now - timedelta(days=30), now + timedelta(days=7)
    period = {"from": start.isoformat(), "to": end.isoformat()}
    sql_period = {"start": start, "end": end, "now": now}
    mine = [north.territory.id, south.territory.id]

    figures = await _kpis(client, coordinator, **period)
    expected = await _expected(build, mine, sql_period)
    assert figures == expected
    # The random mix exercises every figure (the SQL above is not vacuous).
    assert all(expected[name] > 0 for name in TOTALS), expected
    assert expected["answered_on_time"] < expected["due"]
    assert len(expected["top_reasons"]) == 5

    # One territory; one technician (complaints linked to their visits).
    figures = await _kpis(client, coordinator, **period, territory_id=str(south.territory.id))
    assert figures == await _expected(build, mine, {**sql_period, "territory": south.territory.id})
    technician = tech_n.technician.id
    figures = await _kpis(client, coordinator, **period, technician_id=str(technician))
    assert figures == await _expected(build, mine, {**sql_period, "technician": technician})
    assert figures["registered"] > 0

    # A dispatcher of the south sees the south only; another territory's filter shows nothing.
    figures = await _kpis(client, dispatcher, **period)
    assert figures == await _expected(build, [south.territory.id], sql_period)
    figures = await _kpis(client, dispatcher, **period, territory_id=str(north.territory.id))
    assert (figures["registered"], figures["overdue_open"], figures["top_reasons"]) == (0, 0, [])


async def test_appeal_kpis_refuse_technicians_and_strangers(
    fresh_client: Any, fresh_build: Builder
) -> None:
    client, build = fresh_client, fresh_build
    area = await build.area()
    technician = await build.person(Role.TECHNICIAN, area.territory)
    response = await client.get(KPIS, headers=technician.headers)
    assert response.status_code == 403
    problem(response)
    response = await client.get(KPIS)
    assert response.status_code == 401
