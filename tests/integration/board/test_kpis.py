"""KPIs against a hand-computed fixture: one territory, two technicians, ten days."""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from service.board.kpis import KpiQuery, KpiService
from service.common.actor import Role
from service.db.models import Visit, WorkOrder
from tests.conftest import problem
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

KPIS = "/api/v1/coordination/kpis"


@dataclass
class Fixture:
    area: Area
    other: Area
    coordinator: Person
    t1: Person
    t2: Person
    start: datetime
    end: datetime
    resolution_minutes: list[float]
    required_steps: int


@pytest.fixture
async def fixture(build: Builder) -> Fixture:
    area = await build.area()
    other = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    t1 = await build.person(Role.TECHNICIAN, area.territory)
    t2 = await build.person(Role.TECHNICIAN, area.territory)
    stranger = await build.person(Role.TECHNICIAN, other.territory)
    assert t1.technician is not None
    assert t2.technician is not None
    assert stranger.technician is not None
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=10)

    def t(days: float) -> datetime:
        return start + timedelta(days=days)

    async def order(where: Area, created: datetime, **fields: Any) -> WorkOrder:
        return await build.order(where, created_at=created, **fields)

    o1 = await order(area, t(0.1), status="completed")
    o2 = await order(area, t(0.2), status="completed")
    o3 = await order(area, t(0.3), status="on_hold", control_deadline=end + timedelta(days=2))
    o4 = await order(area, t(0.4), status="scheduled", control_deadline=end - timedelta(hours=5))
    o5 = await order(area, t(0.5), status="new")
    o6 = await order(area, start - timedelta(days=5), status="completed")
    o7 = await order(other, t(0.1), status="completed")

    def visit(
        order_: WorkOrder,
        who: Person,
        window_start: datetime,
        status: str,
        *,
        arrived: float | None = None,
        finished: float | None = None,
    ) -> Visit:
        def at(minutes: float | None) -> datetime | None:
            return window_start + timedelta(minutes=minutes) if minutes is not None else None

        return visit_row(
            order_, who, window_start, status, arrived_at=at(arrived), finished_at=at(finished)
        )

    v1 = visit(o1, t1, t(1), "completed", arrived=30, finished=90)
    v2a = visit(o2, t1, t(2), "no_access", finished=10)
    v2b = visit(o2, t2, t(3), "completed", arrived=150, finished=210)  # 30 min after the window
    v3 = visit(o3, t2, t(4), "needs_revisit", arrived=0, finished=60)
    v4 = visit(o4, t1, end + timedelta(days=1), "planned")
    v5 = visit(o5, t2, t(5), "cancelled")
    v6 = visit(o6, t1, start - timedelta(days=2), "completed", arrived=10, finished=50)
    v7 = visit(o7, stranger, t(1), "completed", arrived=10, finished=50)
    async with build.sessionmaker() as session:
        session.add_all([v1, v2a, v2b, v3, v4, v5, v6, v7])
        await session.flush()
        for when, the_visit, reason in (
            (t(0.5), v1, "customer_request"),
            (t(0.6), v4, "customer_request"),
            (t(4.5), v3, "waiting_for_parts"),
            (start - timedelta(days=1), v6, "customer_request"),
            (t(0.5), v7, "no_access"),
        ):
            session.add(reschedule(the_visit, when, reason))
        template = await repair_template(session)
        required = step_ids(template.content, required_only=True)
        for the_visit, answered in ((v1, required), (v3, required[:3])):
            add_checklist(session, the_visit, template, answered)
        for order_, target, status, settled in (
            (o1, "response", "met", t(0.2)),
            (o1, "resolution", "met", t(1.1)),
            (o2, "resolution", "breached", t(2.5)),
            (o3, "arrival", "breached", start - timedelta(hours=1)),
        ):
            session.add(
                settled_clock(order_, target, met=status == "met", settled=settled, computed_at=end)
            )
        for the_visit, score, when in (
            (v1, 5, t(1.2)),
            (v2b, 3, t(3.2)),
            (v3, 4, t(4.2)),
            (v6, 1, start - timedelta(days=1)),
            (v7, 1, t(1.2)),
        ):
            session.add(
                rating(
                    the_visit,
                    score,
                    when,
                    comment="Спасибо" if score > 3 else None,
                    confirmations={"id_shown": True},
                )
            )
        await session.commit()
    resolution = [
        (v1.finished_at - o1.created_at).total_seconds() / 60,  # type: ignore[operator]
        (v2b.finished_at - o2.created_at).total_seconds() / 60,  # type: ignore[operator]
    ]
    return Fixture(area, other, coordinator, t1, t2, start, end, resolution, len(required))


async def _kpis(client: Any, who: Person, fx: Fixture, **params: Any) -> dict[str, Any]:
    query = {
        "from": fx.start.isoformat(),
        "to": fx.end.isoformat(),
        "territory": str(fx.area.territory.id),
        **params,
    }
    response = await client.get(KPIS, params=query, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_territory_figures(client: Any, fixture: Fixture) -> None:
    k = await _kpis(client, fixture.coordinator, fixture)
    assert k["arrival"] == {"arrivals": 3, "on_time": 2, "on_time_share": 0.6667}
    assert k["outcomes"] == {"ended": 4, "no_access": 1, "no_access_rate": 0.25}
    assert k["resolution"] == {
        "completed_orders": 2,
        "first_visit": 1,
        "first_visit_resolution": 0.5,
        "visits_per_order": 1.5,
        "median_resolution_minutes": round(statistics.median(fixture.resolution_minutes), 1),
    }
    assert k["reschedules"] == {
        "visits_booked": 6,
        "reschedules": 3,
        "rate": 0.5,
        "by_reason": [
            {"reason": "customer_request", "count": 2, "rate": 0.3333},
            {"reason": "waiting_for_parts", "count": 1, "rate": 0.1667},
        ],
    }
    n = fixture.required_steps
    assert n > 3
    assert k["checklists"] == {
        "visits": 2,
        "compliance": round((1 + 3 / n) / 2, 4),
        "fully_compliant": 1,
    }
    assert k["deadlines"]["targets"] == [
        {"target": "response", "met": 1, "breached": 0, "compliance": 1.0},
        {"target": "arrival", "met": 0, "breached": 0, "compliance": None},
        {"target": "resolution", "met": 1, "breached": 1, "compliance": 0.5},
    ]
    assert k["ratings"] == {
        "count": 3,
        "average": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
    }
    overdue = k["overdue"]
    assert (overdue["open_orders"], overdue["overdue"], overdue["overdue_share"]) == (3, 1, 0.3333)


async def test_one_technician(client: Any, fixture: Fixture) -> None:
    assert fixture.t1.technician is not None
    k = await _kpis(client, fixture.coordinator, fixture, technician=str(fixture.t1.technician.id))
    assert k["arrival"]["arrivals"] == 1
    assert k["arrival"]["on_time"] == 1
    assert (k["outcomes"]["ended"], k["outcomes"]["no_access"]) == (2, 1)
    assert (k["resolution"]["completed_orders"], k["resolution"]["first_visit"]) == (1, 1)
    assert (k["reschedules"]["visits_booked"], k["reschedules"]["reschedules"]) == (3, 2)
    assert k["ratings"]["count"] == 1
    assert k["ratings"]["average"] == 5.0
    resolution = k["deadlines"]["targets"][2]
    assert (resolution["met"], resolution["breached"]) == (1, 1)
    assert (k["overdue"]["open_orders"], k["overdue"]["overdue"]) == (1, 1)


async def test_other_territories_are_filtered_out(
    client: Any, fixture: Fixture, build: Builder
) -> None:
    outsider = await build.person(Role.COORDINATOR, fixture.other.territory)
    k = await _kpis(client, outsider, fixture)  # asks for a territory it does not cover
    assert k["arrival"]["arrivals"] == 0
    assert k["resolution"]["completed_orders"] == 0
    assert k["ratings"]["count"] == 0
    assert k["overdue"]["open_orders"] == 0
    own = await _kpis(client, outsider, fixture, territory=str(fixture.other.territory.id))
    assert own["resolution"]["completed_orders"] == 1
    assert own["ratings"]["distribution"]["1"] == 1
    assert own["reschedules"]["by_reason"] == [{"reason": "no_access", "count": 1, "rate": 1.0}]


async def test_bad_periods(client: Any, fixture: Fixture) -> None:
    for params in (
        {"from": fixture.end.isoformat(), "to": fixture.start.isoformat()},
        {"from": (fixture.end - timedelta(days=400)).isoformat(), "to": fixture.end.isoformat()},
        {"from": "2026-01-01T00:00:00", "to": fixture.end.isoformat()},
        {"to": "0001-01-01T02:01:13Z"},
    ):
        response = await client.get(KPIS, params=params, headers=fixture.coordinator.headers)
        assert response.status_code == 422, (params, response.text)
        problem(response)
    garbage = await client.get(
        KPIS, params={"from": "yesterday"}, headers=fixture.coordinator.headers
    )
    assert garbage.status_code == 400
    problem(garbage)


async def test_one_statement_matches_the_eight_it_replaced(
    fixture: Fixture, build: Builder
) -> None:
    """The one-pass statement against the old per-family queries, in every scope, same data."""
    admin = await build.person(Role.ADMIN)
    outsider = await build.person(Role.COORDINATOR, fixture.other.territory)
    period = {"start": fixture.start, "end": fixture.end}
    cases = [
        (fixture.coordinator, KpiQuery(**period)),
        (fixture.coordinator, KpiQuery(**period, territory_id=fixture.area.territory.id)),
        (fixture.coordinator, KpiQuery(**period, technician_id=_technician_id(fixture.t1))),
        (fixture.coordinator, KpiQuery(**period, technician_id=_technician_id(fixture.t2))),
        (fixture.coordinator, KpiQuery(**period, territory_id=fixture.other.territory.id)),
        (outsider, KpiQuery(**period)),
        (admin, KpiQuery(**period)),
        (admin, KpiQuery(start=fixture.start, end=fixture.start + timedelta(days=3))),
        (admin, KpiQuery(**period, technician_id=_technician_id(fixture.t1))),
    ]
    arrivals = 0
    for person, query in cases:
        async with build.sessionmaker() as session:
            new = msgspec.to_builtins(await KpiService(session, person.actor).compute(query))
            old = msgspec.to_builtins(await ReferenceKpis(session, person.actor).compute(query))
        for figures in (new, old):
            figures["overdue"].pop("as_of")  # the moment each was asked
            figures.pop("data_as_of")
        assert new == old, (person.user.role, query)
        arrivals += new["arrival"]["arrivals"]
    # Not a vacuous match: the fixture's figures are there to compare.
    assert arrivals > 0


def _technician_id(person: Person) -> uuid.UUID:
    assert person.technician is not None
    return person.technician.id
