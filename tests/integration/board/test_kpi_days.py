"""KPIs from the daily aggregates equal the direct computation, on random data.

The data: two territories, three technicians, ~120 orders over the last 12 days with times
near UTC midnight, orders completed twice (inside and across the period's start), checklists,
clocks, ratings and reschedules. The periods: whole days, periods cut at a +05:00 and a -03:30
local midnight, today's partial day, one hour. Compared in every scope before any day is summed,
after the refresh, after writes to summed days (those days are read raw again), and after the
next refresh.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from sqlalchemy import text, update
from sqlalchemy.dialects.postgresql import Range

from service.board.kpis import KpiQuery, KpiService
from service.common.actor import Actor, Role
from service.db.kpi_days import refresh_days
from service.db.models import Visit, WorkOrder
from tests.integration.board.kpi_builders import (
    add_checklist,
    rating,
    repair_template,
    reschedule,
    settled_clock,
    step_ids,
    visit_row,
)
from tests.integration.board.kpi_reference import ReferenceKpis
from tests.integration.builders import Area, Builder, Person

pytestmark = pytest.mark.asyncio

FINAL = ["completed", "no_access", "aborted_safety", "needs_revisit", "customer_refused_to_sign"]


async def _populate(build: Builder, rng: random.Random, now: datetime) -> dict[str, Any]:
    areas = [await build.area(), await build.area()]
    techs = [
        await build.person(Role.TECHNICIAN, areas[0].territory),
        await build.person(Role.TECHNICIAN, areas[0].territory),
        await build.person(Role.TECHNICIAN, areas[1].territory),
    ]
    coordinator = await build.person(Role.COORDINATOR, areas[0].territory)
    admin = await build.person(Role.ADMIN)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def moment(days_ago: int) -> datetime:
        # Often a few minutes either side of a UTC midnight.
        base = midnight - timedelta(days=days_ago)
        if rng.random() < 0.4:
            return base + timedelta(minutes=rng.randint(-20, 20), seconds=rng.randint(0, 59))
        return base + timedelta(minutes=rng.randint(0, 1439), seconds=rng.randint(0, 59))

    orders: list[tuple[WorkOrder, Area]] = []
    for _ in range(120):
        area = rng.choice(areas)
        created = min(moment(rng.randint(0, 12)), now - timedelta(minutes=5))
        orders.append((await build.order(area, created_at=created, status="completed"), area))
    slot = midnight - timedelta(days=40)
    visits: list[Visit] = []
    async with build.sessionmaker() as session:
        template = await repair_template(session)
        steps = step_ids(template.content)
        for order, _area in orders:
            local = [t for t in techs if t.technician is not None]
            count = rng.choice([0, 1, 1, 2, 2, 3])
            at = order.created_at
            for index in range(count):
                at = min(at + timedelta(hours=rng.uniform(1, 60)), now - timedelta(minutes=1))
                last = index == count - 1
                status = rng.choice(FINAL + ["cancelled"] + (["planned"] if last else []))
                if index < count - 1 and rng.random() < 0.3:
                    status = "completed"  # an order completed twice
                who = rng.choice(local)
                slot += timedelta(hours=3)
                finished = at if status in FINAL else None
                arrived = (
                    slot + timedelta(minutes=rng.choice([-30, 10, 90, 150]))
                    if status in FINAL and rng.random() < 0.8
                    else None
                )
                visit = visit_row(
                    order,
                    who,
                    slot,
                    status,
                    arrived_at=min(arrived, now) if arrived else None,
                    finished_at=finished,
                    created_at=order.created_at + timedelta(minutes=rng.randint(1, 600)),
                )
                session.add(visit)
                visits.append(visit)
        await session.flush()
        for visit in visits:
            if visit.finished_at is not None and rng.random() < 0.4:
                answered = rng.sample(steps, rng.randint(0, len(steps)))
                add_checklist(session, visit, template, answered)
            if rng.random() < 0.3:
                session.add(
                    reschedule(
                        visit,
                        min(visit.created_at + timedelta(hours=5), now),
                        rng.choice(["customer_request", "no_access"]),
                    )
                )
            if visit.finished_at is not None and rng.random() < 0.4:
                session.add(
                    rating(
                        visit,
                        rng.randint(1, 5),
                        min(visit.finished_at + timedelta(hours=1), now),
                    )
                )
        for order, _ in orders:
            for target in ("response", "arrival", "resolution"):
                if rng.random() < 0.5:
                    settled = min(order.created_at + timedelta(hours=rng.uniform(0, 48)), now)
                    session.add(
                        settled_clock(
                            order,
                            target,
                            met=rng.random() < 0.6,
                            settled=settled,
                            computed_at=now,
                            measure="calendar",
                        )
                    )
        await session.commit()
    return {
        "areas": areas,
        "techs": techs,
        "coordinator": coordinator,
        "admin": admin,
        "visits": visits,
        "midnight": midnight,
    }


def _periods(now: datetime, midnight: datetime) -> list[tuple[datetime, datetime]]:
    plus5 = timezone(timedelta(hours=5))
    minus330 = timezone(-timedelta(hours=3, minutes=30))
    local5 = (now.astimezone(plus5) - timedelta(days=8)).replace(hour=0, minute=0, second=0)
    local330 = (now.astimezone(minus330) - timedelta(days=6)).replace(hour=0, minute=0, second=0)
    return [
        (midnight - timedelta(days=10), midnight),  # whole UTC days
        (midnight - timedelta(days=10), now),  # and today so far
        (local5, now),  # a +05:00 local midnight
        (local330, local330 + timedelta(days=4)),  # a -03:30 local midnight, both ends
        (midnight - timedelta(days=5, hours=3), midnight - timedelta(days=5, hours=2)),
        (midnight - timedelta(days=13), now + timedelta(hours=1)),
    ]


def _actors(data: dict[str, Any]) -> list[tuple[Actor, uuid.UUID | None, uuid.UUID | None]]:
    techs: list[Person] = data["techs"]
    areas: list[Area] = data["areas"]
    cases: list[tuple[Actor, uuid.UUID | None, uuid.UUID | None]] = [
        (data["admin"].actor, None, None),
        (data["coordinator"].actor, None, None),
        (data["coordinator"].actor, areas[1].territory.id, None),
        (data["admin"].actor, areas[1].territory.id, None),
    ]
    for tech in techs:
        assert tech.technician is not None
        cases.append((data["admin"].actor, None, tech.technician.id))
    return cases


async def _compare(build: Builder, data: dict[str, Any], now: datetime) -> int:
    """Every period in every scope; how many figures were compared."""
    compared = 0
    for start, end in _periods(now, data["midnight"]):
        for actor, territory, technician in _actors(data):
            query = KpiQuery(start=start, end=end, territory_id=territory, technician_id=technician)
            async with build.sessionmaker() as session:
                new = msgspec.to_builtins(await KpiService(session, actor).compute(query))
                old = msgspec.to_builtins(await ReferenceKpis(session, actor).compute(query))
            for figures in (new, old):
                figures["overdue"].pop("as_of")
                figures.pop("data_as_of")  # the moment each was asked, too
            assert new == old, (start, end, territory, technician)
            compared += new["arrival"]["arrivals"] + new["resolution"]["completed_orders"]
    return compared


async def _covered_days(build: Builder) -> list[date]:
    async with build.sessionmaker() as session:
        return list(await session.scalars(text("SELECT day FROM kpi_day_state ORDER BY day")))


@pytest.mark.parametrize("seed", [1, 2])
async def test_daily_aggregates_equal_the_direct_computation(
    fresh_build: Builder, seed: int
) -> None:
    build = fresh_build
    rng = random.Random(seed)
    now = datetime.now(UTC)
    data = await _populate(build, rng, now)
    # Nothing summed yet: every day from the records.
    assert await _compare(build, data, now) > 0

    async with build.sessionmaker() as session:
        summed = await refresh_days(session, now.date())
        await session.commit()
    assert summed > 0
    covered = await _covered_days(build)
    assert data["midnight"].date() not in covered  # today is never summed
    assert await _compare(build, data, now) > 0

    # Writes to summed days: a completion undone, a technician changed, a rating and a clock
    # on an old day. Those days are read from the records until the next refresh.
    visits: list[Visit] = data["visits"]
    old = [v for v in visits if v.finished_at and v.finished_at < data["midnight"]]
    async with build.sessionmaker() as session:
        done = next(v for v in old if v.status == "completed")
        await session.execute(
            update(Visit).where(Visit.id == done.id).values(status="needs_revisit")
        )
        other = next(v for v in old if v.status != "cancelled" and v.id != done.id)
        await session.execute(update(Visit).where(Visit.id == other.id).values(status="no_access"))
        # A visit today on an order completed on a summed day: that completion's visit count
        # changes, so its day is touched though the new visit's own times are all today.
        revisited = next(v for v in old if v.status == "completed" and v.id != done.id)
        assert revisited.technician_id is not None
        session.add(
            Visit(
                id=uuid.uuid4(),
                work_order_id=revisited.work_order_id,
                technician_id=revisited.technician_id,
                agreed_window=Range(now + timedelta(days=3), now + timedelta(days=3, hours=2)),
                status="no_access",
                finished_at=now - timedelta(seconds=1),
                created_at=now - timedelta(seconds=2),
            )
        )
        await session.execute(
            text(
                "DELETE FROM ratings"
                " WHERE id = (SELECT id FROM ratings ORDER BY created_at LIMIT 1)"
            )
        )
        await session.execute(
            text(
                "UPDATE sla_clocks SET status = 'breached'"
                " WHERE (work_order_id, target) = (SELECT work_order_id, target FROM sla_clocks"
                " WHERE status = 'met' ORDER BY settled_at LIMIT 1)"
            )
        )
        await session.commit()
    async with build.sessionmaker() as session:
        stale = (
            await session.scalar(
                text(
                    "SELECT count(*) FROM kpi_day_state s WHERE EXISTS (SELECT 1 FROM kpi_touches"
                    " t WHERE t.day = s.day AND NOT pg_visible_in_snapshot(t.xid, s.snapshot))"
                )
            )
            or 0
        )
    assert stale >= 1
    assert await _compare(build, data, now) > 0

    async with build.sessionmaker() as session:
        assert await refresh_days(session, now.date()) == stale
        await session.commit()
    assert await _compare(build, data, now) > 0
