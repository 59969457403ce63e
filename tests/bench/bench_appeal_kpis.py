"""The KPIs' appeals family (``service.appeals.analysis.appeal_kpis``) at 250,000 appeals over
two years in 50 territories: a coordinator of 5 territories (about 1,000 appeals a month) and an
admin over all of them (about 10,000 a month), against a bare ``SELECT 1`` round trip on the
same connection, in interleaved rounds (medians and spread of the per-round ratios).

The family reads the appeals table alone (registered in the month, due in it, open and overdue
now, the top reasons): two statements on the ``ix_appeals_territory`` and ``ix_appeals_due``
indexes. The plan of the totals statement is printed for the coordinator's scope.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.appeals.analysis import appeal_kpis
from service.common.actor import Actor, Role
from service.db.engine import make_sessionmaker
from tests.bench.support import bench_database_url, migrate, recreate_database

ROUNDS = 7
TERRITORIES = 50
APPEALS = 250_000
MINE = 5

POPULATE = """
INSERT INTO territories (id, code, name, time_zone, area, created_at, updated_at)
SELECT gen_random_uuid(), 'B' || g, 'Bench ' || g, 'Asia/Almaty',
       ST_Multi(ST_MakeEnvelope(g, 0, g + 0.9, 0.9, 4326)), now(), now()
FROM generate_series(1, :territories) AS g;

INSERT INTO appeals (id, number, territory_id, kind, channel, reply_channel, language,
                     author_name, text, state, registered_at, due_at, warning_at, max_due_at,
                     competence_due_at, decision, decision_reasons, reason_codes, answer_text,
                     answered_at, closed_at, status_token_hash, created_at, updated_at)
SELECT gen_random_uuid(), 'B-' || g, t.id, k.kind, 'phone', 'sms', 'ru', 'Bench', 'Bench',
       CASE WHEN x.closed IS NULL THEN 'in_progress' ELSE 'answered' END,
       x.registered, x.registered + interval '7 days', x.registered + interval '5 days',
       x.registered + interval '30 days', x.registered + interval '7 days',
       CASE WHEN k.complaint THEN 'partly' END, CASE WHEN k.complaint THEN 'reasons' END,
       CASE WHEN k.complaint THEN ARRAY[(ARRAY['missed_visit', 'poor_quality',
            'staff_conduct', 'damage', 'deadline', 'other'])[1 + g % 6]]::varchar[]
            ELSE '{}'::varchar[] END,
       CASE WHEN x.closed IS NOT NULL THEN 'answer' END, x.closed, x.closed,
       md5(g::text) || md5((g + 1)::text), now(), now()
FROM generate_series(1, :appeals) AS g
CROSS JOIN LATERAL (SELECT now() - (g::float8 / :appeals) * interval '730 days' AS registered)
    AS r
CROSS JOIN LATERAL (
    SELECT r.registered,
           -- Closed within 0-12 days (a few late); a third of the last 20 days' still open.
           CASE WHEN r.registered > now() - interval '20 days' AND g % 3 = 0 THEN NULL
                WHEN r.registered + ((g % 13) || ' days')::interval > now() THEN NULL
                ELSE r.registered + ((g % 13) || ' days')::interval END AS closed
) AS x
CROSS JOIN LATERAL (
    SELECT (ARRAY['question', 'request', 'complaint', 'quality_claim'])[1 + g % 4] AS kind,
           g % 4 >= 2 AS complaint
) AS k
JOIN LATERAL (
    SELECT id FROM territories WHERE code = 'B' || (1 + g % :territories)
) AS t ON true;

ANALYZE territories;
ANALYZE appeals;
"""


async def populate(url: str) -> list[uuid.UUID]:
    """The territories and appeals; the coordinator's territories."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in POPULATE.split(";\n"):
                if statement.strip():
                    await connection.execute(
                        text(statement), {"territories": TERRITORIES, "appeals": APPEALS}
                    )
            rows = await connection.execute(
                text("SELECT id FROM territories ORDER BY code LIMIT :n"), {"n": MINE}
            )
            return [row.id for row in rows]
    finally:
        await engine.dispose()


async def rounds(url: str, actors: list[Actor]) -> tuple[list[list[float]], str]:
    """Per round: SELECT 1, then the family for each actor (ms); and the coordinator's plan."""
    engine = create_async_engine(url)
    now = datetime.now(UTC)
    since = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=20)
    until = since + timedelta(days=31)
    timings: list[list[float]] = []
    try:
        async with make_sessionmaker(engine)() as session:
            for actor in actors:  # warm the plans
                await appeal_kpis(session, actor, since, until, now=now)
            for _ in range(ROUNDS):
                row = []
                started = time.perf_counter()
                await session.execute(text("SELECT 1"))
                row.append((time.perf_counter() - started) * 1000)
                for actor in actors:
                    started = time.perf_counter()
                    await appeal_kpis(session, actor, since, until, now=now)
                    row.append((time.perf_counter() - started) * 1000)
                timings.append(row)
            plan = await session.execute(
                text(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "
                    "SELECT count(*) FILTER (WHERE registered_at >= :since), "
                    "count(*) FILTER (WHERE due_at >= :since) FROM appeals "
                    "WHERE (territory_id = ANY(:mine) AND registered_at >= :since AND "
                    "registered_at < :until) OR (territory_id = ANY(:mine) AND due_at >= :since "
                    "AND due_at < :until AND (closed_at IS NOT NULL OR due_at <= :now)) OR "
                    "(territory_id = ANY(:mine) AND closed_at IS NULL AND due_at <= :now)"
                ),
                {
                    "since": since,
                    "until": until,
                    "now": now,
                    "mine": list(actors[0].territory_ids),
                },
            )
            shown = "\n".join(f"    {line}" for (line,) in plan)
    finally:
        await engine.dispose()
    return timings, shown


def main() -> None:
    """Print the family's milliseconds against SELECT 1, for a coordinator and an admin."""
    url = bench_database_url("_appeals")
    asyncio.run(recreate_database(url))
    migrate(url)
    started = time.perf_counter()
    mine = asyncio.run(populate(url))
    print(f"populated {APPEALS:,} appeals in {time.perf_counter() - started:.0f} s", flush=True)
    coordinator = Actor(user_id=uuid.uuid4(), role=Role.COORDINATOR, territory_ids=frozenset(mine))
    admin = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, territory_ids=frozenset())
    timings, plan = asyncio.run(rounds(url, [coordinator, admin]))
    floor = [r[0] for r in timings]
    for index, who in ((1, f"coordinator of {MINE} territories"), (2, "admin, all 50")):
        spent = [r[index] for r in timings]
        ratios = [r[index] / r[0] for r in timings]
        print(
            f"appeals family, {who}: {statistics.median(spent):.1f} ms; SELECT 1"
            f" {statistics.median(floor):.2f} ms; family / SELECT 1 {statistics.median(ratios):.1f}"
            f" (rounds {min(ratios):.1f} to {max(ratios):.1f})"
        )
    print("plan of the totals statement (coordinator):\n" + plan)


if __name__ == "__main__":
    main()
