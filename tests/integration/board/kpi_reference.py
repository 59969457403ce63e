"""The KPI queries as they were before the one-pass statement: the reference it must match.

Eight statements, each joining work_orders for the territory scope (before migration 0022 copied
the territory onto visits, clocks, ratings and events). Used by the comparison test and the KPI
bench; not by the service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals.analysis import appeal_kpis
from service.board import schemas
from service.board.kpis import KpiQuery
from service.common.actor import Actor
from service.db.base import utcnow
from service.db.models.coordination import OPEN_ORDER_STATUSES

FINAL_VISIT_STATUSES = (
    "completed",
    "no_access",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
)

# :scoped false means every territory (an admin without a territory filter).
_SCOPE = "(NOT CAST(:scoped AS boolean) OR wo.territory_id = ANY(CAST(:territories AS uuid[])))"
_TECH_VISIT = "(CAST(:technician AS uuid) IS NULL OR v.technician_id = CAST(:technician AS uuid))"
_TECH_ORDER = (
    "(CAST(:technician AS uuid) IS NULL OR EXISTS (SELECT 1 FROM visits tv"
    " WHERE tv.work_order_id = wo.id AND tv.technician_id = CAST(:technician AS uuid)"
    " AND tv.status <> 'cancelled'))"
)
_FINAL = "(" + ", ".join(f"'{status}'" for status in FINAL_VISIT_STATUSES) + ")"
_OPEN = "(" + ", ".join(f"'{status}'" for status in OPEN_ORDER_STATUSES) + ")"
_FRAGMENTS = {
    "$SCOPE": _SCOPE,
    "$TECH_VISIT": _TECH_VISIT,
    "$TECH_ORDER": _TECH_ORDER,
    "$FINAL": _FINAL,
    "$OPEN": _OPEN,
}


def _query(sql: str) -> TextClause:
    """A statement with the fixed fragments above spliced in; every value is a bound parameter."""
    for marker, fragment in _FRAGMENTS.items():
        sql = sql.replace(marker, fragment)
    return text(sql)


ARRIVAL = _query(
    """
    SELECT count(*) AS arrivals,
           count(*) FILTER (WHERE v.agreed_window @> v.arrived_at) AS on_time
    FROM visits v JOIN work_orders wo ON wo.id = v.work_order_id
    WHERE v.arrived_at >= :start AND v.arrived_at < :end AND $SCOPE AND $TECH_VISIT
    """
)

OUTCOMES = _query(
    """
    SELECT count(*) AS ended, count(*) FILTER (WHERE v.status = 'no_access') AS no_access
    FROM visits v JOIN work_orders wo ON wo.id = v.work_order_id
    WHERE v.finished_at >= :start AND v.finished_at < :end AND v.status IN $FINAL
      AND $SCOPE AND $TECH_VISIT
    """
)

RESOLUTION = _query(
    """
    WITH done AS (
        SELECT DISTINCT ON (v.work_order_id)
               v.work_order_id, v.id, v.finished_at, wo.created_at AS registered_at
        FROM visits v JOIN work_orders wo ON wo.id = v.work_order_id
        WHERE v.status = 'completed' AND v.finished_at >= :start AND v.finished_at < :end
          AND $SCOPE AND $TECH_VISIT
        ORDER BY v.work_order_id, v.finished_at
    ), counted AS (
        SELECT d.work_order_id, d.finished_at, d.registered_at,
               count(*) FILTER (WHERE a.status <> 'cancelled') AS visits,
               coalesce(bool_or(a.id <> d.id AND a.status IN $FINAL
                                AND a.finished_at < d.finished_at), false) AS earlier
        FROM done d JOIN visits a ON a.work_order_id = d.work_order_id
        GROUP BY d.work_order_id, d.finished_at, d.registered_at
    )
    SELECT count(*) AS completed,
           count(*) FILTER (WHERE NOT earlier) AS first_visit,
           avg(visits) AS visits_per_order,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM finished_at - registered_at) / 60
           ) AS median_minutes
    FROM counted
    """
)

RESCHEDULES = _query(
    """
    SELECT NULL AS reason, count(*) AS n
    FROM visits v JOIN work_orders wo ON wo.id = v.work_order_id
    WHERE v.created_at >= :start AND v.created_at < :end AND $SCOPE AND $TECH_VISIT
    UNION ALL
    SELECT coalesce(e.data->>'reason', 'unknown') AS reason, count(*) AS n
    FROM work_order_events e
    JOIN work_orders wo ON wo.id = e.work_order_id
    LEFT JOIN visits v ON v.id = e.visit_id
    WHERE e.kind = 'visit.rescheduled' AND e.occurred_at >= :start AND e.occurred_at < :end
      AND $SCOPE AND $TECH_VISIT
    GROUP BY 1
    """
)

CHECKLISTS = _query(
    """
    WITH ended AS (
        SELECT v.id AS visit_id, vc.template_key, vc.template_version
        FROM visits v
        JOIN work_orders wo ON wo.id = v.work_order_id
        JOIN visit_checklists vc ON vc.visit_id = v.id
        WHERE v.finished_at >= :start AND v.finished_at < :end AND v.status IN $FINAL
          AND $SCOPE AND $TECH_VISIT
    ), steps AS MATERIALIZED (
        -- Each template version is read once, not once per visit.
        SELECT t.key, t.version, s->>'id' AS step_id
        FROM checklist_templates t,
             jsonb_array_elements(t.content->'phases') AS p,
             jsonb_array_elements(p->'steps') AS s
        WHERE (t.key, t.version) IN (SELECT DISTINCT template_key, template_version FROM ended)
          AND coalesce((s->>'required')::boolean, true) AND s->>'visible_when' IS NULL
    ), answered AS (
        SELECT DISTINCT a.visit_id, a.step_id
        FROM checklist_answers a
        WHERE a.visit_id IN (SELECT visit_id FROM ended)
          AND (a.value IS NOT NULL OR cardinality(a.photo_ids) > 0)
    ), scored AS (
        SELECT e.visit_id, count(*) AS required, count(a.step_id) AS answered
        FROM ended e
        JOIN steps st ON st.key = e.template_key AND st.version = e.template_version
        LEFT JOIN answered a ON a.visit_id = e.visit_id AND a.step_id = st.step_id
        GROUP BY e.visit_id
    )
    SELECT count(*) AS visits,
           avg(answered::float / required) AS compliance,
           count(*) FILTER (WHERE answered = required) AS complete
    FROM scored
    """
)

DEADLINES = _query(
    """
    SELECT c.target,
           count(*) FILTER (WHERE c.status = 'met') AS met,
           count(*) FILTER (WHERE c.status = 'breached') AS breached
    FROM sla_clocks c JOIN work_orders wo ON wo.id = c.work_order_id
    WHERE c.settled_at >= :start AND c.settled_at < :end AND $SCOPE AND $TECH_ORDER
    GROUP BY c.target
    """
)

RATINGS = _query(
    """
    SELECT r.score, count(*) AS n
    FROM ratings r
    JOIN work_orders wo ON wo.id = r.work_order_id
    LEFT JOIN visits v ON v.id = r.visit_id
    WHERE r.created_at >= :start AND r.created_at < :end AND $SCOPE AND $TECH_VISIT
    GROUP BY r.score
    """
)

OVERDUE = _query(
    """
    SELECT count(*) AS open_orders,
           count(*) FILTER (WHERE wo.control_deadline < :now) AS overdue
    FROM work_orders wo
    WHERE wo.status IN $OPEN AND $SCOPE AND $TECH_ORDER
    """
)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class ReferenceKpis:
    """The figures as the eight statements computed them."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def parameters(self, query: KpiQuery, now: datetime) -> dict[str, Any]:
        """Bound parameters: the period, the caller's scope and the filters."""
        if query.territory_id is not None:
            visible = self.actor.covers_territory(query.territory_id)
            territories = [query.territory_id] if visible else []
            scoped = True
        else:
            territories = sorted(self.actor.territory_ids)
            scoped = not self.actor.is_admin
        return {
            "start": query.start,
            "end": query.end,
            "now": now,
            "scoped": scoped,
            "territories": territories,
            "technician": query.technician_id,
        }

    async def compute(self, query: KpiQuery) -> schemas.Kpis:
        """Every family of figures."""
        now = utcnow()
        params = self.parameters(query, now)
        run = self.session.execute
        # Month-sized sorts and hashes stay in memory; LOCAL ends with the request's transaction.
        await run(text("SET LOCAL work_mem = '32MB'"))

        arrival = (await run(ARRIVAL, params)).one()
        outcomes = (await run(OUTCOMES, params)).one()
        resolution = (await run(RESOLUTION, params)).one()
        moves = (await run(RESCHEDULES, params)).all()
        checklists = (await run(CHECKLISTS, params)).one()
        deadlines = {row.target: row for row in (await run(DEADLINES, params)).all()}
        ratings = {int(row.score): int(row.n) for row in (await run(RATINGS, params)).all()}
        overdue = (await run(OVERDUE, params)).one()

        booked = next(int(r.n) for r in moves if r.reason is None)
        by_reason = sorted(
            ((str(r.reason), int(r.n)) for r in moves if r.reason is not None),
            key=lambda item: (-item[1], item[0]),
        )
        rescheduled = sum(n for _, n in by_reason)
        rated = sum(ratings.values())
        return schemas.Kpis(
            period_from=query.start,
            period_to=query.end,
            data_as_of=now,
            territory_id=query.territory_id,
            technician_id=query.technician_id,
            arrival=schemas.ArrivalKpi(
                arrivals=int(arrival.arrivals),
                on_time=int(arrival.on_time),
                on_time_share=_share(int(arrival.on_time), int(arrival.arrivals)),
            ),
            outcomes=schemas.VisitOutcomeKpi(
                ended=int(outcomes.ended),
                no_access=int(outcomes.no_access),
                no_access_rate=_share(int(outcomes.no_access), int(outcomes.ended)),
            ),
            resolution=schemas.ResolutionKpi(
                completed_orders=int(resolution.completed),
                first_visit=int(resolution.first_visit),
                first_visit_resolution=_share(
                    int(resolution.first_visit), int(resolution.completed)
                ),
                visits_per_order=_round(resolution.visits_per_order),
                median_resolution_minutes=_round(resolution.median_minutes, 1),
            ),
            reschedules=schemas.RescheduleKpi(
                visits_booked=booked,
                reschedules=rescheduled,
                rate=_share(rescheduled, booked),
                by_reason=[
                    schemas.RescheduleReason(reason=reason, count=n, rate=_share(n, booked))
                    for reason, n in by_reason
                ],
            ),
            checklists=schemas.ChecklistKpi(
                visits=int(checklists.visits),
                compliance=_round(checklists.compliance, 4),
                fully_compliant=int(checklists.complete),
            ),
            deadlines=schemas.DeadlineKpi(
                targets=[
                    schemas.DeadlineTarget(
                        target=target,
                        met=int(deadlines[target].met) if target in deadlines else 0,
                        breached=int(deadlines[target].breached) if target in deadlines else 0,
                        compliance=_share(
                            int(deadlines[target].met),
                            int(deadlines[target].met) + int(deadlines[target].breached),
                        )
                        if target in deadlines
                        else None,
                    )
                    for target in ("response", "arrival", "resolution")
                ]
            ),
            ratings=schemas.RatingKpi(
                count=rated,
                average=round(sum(s * n for s, n in ratings.items()) / rated, 2) if rated else None,
                distribution={str(score): ratings.get(score, 0) for score in range(1, 6)},
            ),
            overdue=schemas.OverdueKpi(
                as_of=now,
                open_orders=int(overdue.open_orders),
                overdue=int(overdue.overdue),
                overdue_share=_share(int(overdue.overdue), int(overdue.open_orders)),
            ),
            # Not a reference of its own: the appeals family is checked against hand-written
            # SQL in tests/integration/board/test_appeal_kpis.py.
            appeals=await appeal_kpis(
                self.session,
                self.actor,
                query.start,
                query.end,
                territory_id=query.territory_id,
                technician_id=query.technician_id,
                now=now,
            ),
        )


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)
