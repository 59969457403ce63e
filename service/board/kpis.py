"""Quality figures computed in SQL from the records, every family in one statement.

Every query is limited to the caller's territories (all for admins), optionally one territory
and one technician. Definitions are in the response schema (``schemas.Kpis``); in short, for a
period [from, to):

- arrival: visits that arrived in the period; on time = arrival inside the agreed window;
- outcomes: visits that ended (a final outcome) in the period; the share ended as no_access;
- resolution: orders whose completing visit finished in the period; first-visit resolution (no
  earlier attempted visit ended without completing), visits per order, median resolution time
  (registration to completion);
- reschedules: ``visit.rescheduled`` events in the period by reason, per visit booked in it;
- checklists: ended visits with a pinned checklist; the share of the template's unconditionally
  required steps that were answered;
- deadlines: SLA clocks met, or breached, in the period, per target;
- ratings: ratings given in the period;
- overdue: open orders now, and those past their control deadline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from service.board import schemas
from service.common.actor import Actor
from service.db.base import utcnow
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.errors import FieldError, ValidationFailed

FINAL_VISIT_STATUSES = (
    "completed",
    "no_access",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
)


def _scope(alias: str) -> str:
    """The caller's territories, read from the row's own copy of its order's territory.

    :scoped false means every territory (an admin without a territory filter).
    """
    return (
        f"(NOT CAST(:scoped AS boolean)"
        f" OR {alias}.territory_id = ANY(CAST(:territories AS uuid[])))"
    )


def _tech_order(order_id: str) -> str:
    """Orders the technician has (had) a visit on, when the filter is given."""
    # A column name of this module, never a value: values are bound parameters.
    return (
        "(CAST(:technician AS uuid) IS NULL OR EXISTS (SELECT 1 FROM visits tv"  # noqa: S608
        f" WHERE tv.work_order_id = {order_id} AND tv.technician_id = CAST(:technician AS uuid)"
        " AND tv.status <> 'cancelled'))"
    )


_TECH_VISIT = "(CAST(:technician AS uuid) IS NULL OR v.technician_id = CAST(:technician AS uuid))"
_FINAL = "(" + ", ".join(f"'{status}'" for status in FINAL_VISIT_STATUSES) + ")"
_OPEN = "(" + ", ".join(f"'{status}'" for status in OPEN_ORDER_STATUSES) + ")"
_FRAGMENTS = {
    "$VISIT_SCOPE": _scope("v"),
    "$EVENT_SCOPE": _scope("e"),
    "$CLOCK_SCOPE": _scope("c"),
    "$RATING_SCOPE": _scope("r"),
    "$ORDER_SCOPE": _scope("wo"),
    "$TECH_VISIT": _TECH_VISIT,
    "$TECH_OF_CLOCK": _tech_order("c.work_order_id"),
    "$TECH_OF_ORDER": _tech_order("wo.id"),
    "$FINAL": _FINAL,
    "$OPEN": _OPEN,
}


def _query(sql: str) -> TextClause:
    """A statement with the fixed fragments above spliced in; every value is a bound parameter."""
    for marker, fragment in _FRAGMENTS.items():
        sql = sql.replace(marker, fragment)
    return text(sql)


# Every family in one statement. The visits of the period (arrived, ended or booked in it) are
# read once, through the three period indexes, and every visit figure is a filter over them;
# the other tables are read by their own period index. No row is joined to work_orders for its
# territory: each carries a copy (migration 0022).
MONTH = _query(
    """
    WITH period_visits AS MATERIALIZED (
        SELECT v.id, v.work_order_id, v.status, v.agreed_window, v.arrived_at, v.finished_at,
               v.arrived_at >= :start AND v.arrived_at < :end AS arrived_in,
               v.finished_at >= :start AND v.finished_at < :end AND v.status IN $FINAL
                   AS ended_in,
               v.created_at >= :start AND v.created_at < :end AS booked_in
        FROM visits v
        WHERE (v.arrived_at >= :start AND v.arrived_at < :end
               OR v.finished_at >= :start AND v.finished_at < :end
               OR v.created_at >= :start AND v.created_at < :end)
          AND $VISIT_SCOPE AND $TECH_VISIT
    ), visit_figures AS (
        SELECT count(*) FILTER (WHERE arrived_in) AS arrivals,
               count(*) FILTER (WHERE arrived_in AND agreed_window @> arrived_at) AS on_time,
               count(*) FILTER (WHERE ended_in) AS ended,
               count(*) FILTER (WHERE ended_in AND status = 'no_access') AS no_access,
               count(*) FILTER (WHERE booked_in) AS booked
        FROM period_visits
    ), done AS (
        SELECT DISTINCT ON (work_order_id) work_order_id, id, finished_at
        FROM period_visits
        WHERE status = 'completed' AND finished_at >= :start AND finished_at < :end
        ORDER BY work_order_id, finished_at
    ), counted AS (
        SELECT d.work_order_id, d.finished_at, wo.created_at AS registered_at,
               count(*) FILTER (WHERE a.status <> 'cancelled') AS visits,
               coalesce(bool_or(a.id <> d.id AND a.status IN $FINAL
                                AND a.finished_at < d.finished_at), false) AS earlier
        FROM done d
        JOIN work_orders wo ON wo.id = d.work_order_id
        JOIN visits a ON a.work_order_id = d.work_order_id
        GROUP BY d.work_order_id, d.finished_at, wo.created_at
    ), resolution AS (
        SELECT count(*) AS completed,
               count(*) FILTER (WHERE NOT earlier) AS first_visit,
               avg(visits) AS visits_per_order,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM finished_at - registered_at) / 60
               ) AS median_minutes
        FROM counted
    ), moves AS (
        SELECT coalesce(e.data->>'reason', 'unknown') AS reason, count(*) AS n
        FROM work_order_events e
        LEFT JOIN visits v ON v.id = e.visit_id
        WHERE e.kind = 'visit.rescheduled' AND e.occurred_at >= :start AND e.occurred_at < :end
          AND $EVENT_SCOPE AND $TECH_VISIT
        GROUP BY 1
    ), ended AS (
        SELECT pv.id AS visit_id, vc.template_key, vc.template_version
        FROM period_visits pv JOIN visit_checklists vc ON vc.visit_id = pv.id
        WHERE pv.ended_in
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
    ), checklists AS (
        SELECT count(*) AS visits,
               avg(answered::float / required) AS compliance,
               count(*) FILTER (WHERE answered = required) AS complete
        FROM scored
    ), deadlines AS (
        SELECT c.target,
               count(*) FILTER (WHERE c.status = 'met') AS met,
               count(*) FILTER (WHERE c.status = 'breached') AS breached
        FROM sla_clocks c
        WHERE c.settled_at >= :start AND c.settled_at < :end AND $CLOCK_SCOPE AND $TECH_OF_CLOCK
        GROUP BY c.target
    ), rated AS (
        SELECT r.score, count(*) AS n
        FROM ratings r
        LEFT JOIN visits v ON v.id = r.visit_id
        WHERE r.created_at >= :start AND r.created_at < :end AND $RATING_SCOPE AND $TECH_VISIT
        GROUP BY r.score
    ), overdue AS (
        SELECT count(*) AS open_orders,
               count(*) FILTER (WHERE wo.control_deadline < :now) AS overdue
        FROM work_orders wo
        WHERE wo.status IN $OPEN AND $ORDER_SCOPE AND $TECH_OF_ORDER
    )
    SELECT (SELECT to_jsonb(x) FROM visit_figures x) AS visits,
           (SELECT to_jsonb(x) FROM resolution x) AS resolution,
           (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM moves x) AS moves,
           (SELECT to_jsonb(x) FROM checklists x) AS checklists,
           (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM deadlines x) AS deadlines,
           (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM rated x) AS ratings,
           (SELECT to_jsonb(x) FROM overdue x) AS overdue
    """
).columns(
    visits=JSONB,
    resolution=JSONB,
    moves=JSONB,
    checklists=JSONB,
    deadlines=JSONB,
    ratings=JSONB,
    overdue=JSONB,
)


@dataclass(frozen=True, slots=True)
class KpiQuery:
    """Period and filters of a KPI request."""

    start: datetime
    end: datetime
    territory_id: uuid.UUID | None = None
    technician_id: uuid.UUID | None = None


MAX_DAYS = 366
DEFAULT_DAYS = 30
YEARS = (2000, 2099)


def kpi_period(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The period asked for (default: the 30 days before ``end``, which defaults to now)."""
    problems = [
        FieldError(field=name, message="needs a time zone offset and a year in 2000-2099")
        for name, value in (("from", start), ("to", end))
        if value is not None and (value.tzinfo is None or not YEARS[0] <= value.year <= YEARS[1])
    ]
    if not problems:
        end = end or now
        start = start or end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            problems.append(FieldError(field="from", message="must be before to"))
        elif end - start > timedelta(days=MAX_DAYS):
            problems.append(FieldError(field="from", message="the period is at most 366 days"))
    if problems:
        raise ValidationFailed("The period is not valid", errors=problems)
    assert start is not None
    assert end is not None
    return start, end


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class KpiService:
    """Computes the figures for one caller."""

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

        row = (await run(MONTH, params)).one()
        visits, resolution, checklists, overdue = (
            _Figures(row.visits),
            _Figures(row.resolution),
            _Figures(row.checklists),
            _Figures(row.overdue),
        )
        arrival = outcomes = visits
        deadlines = {d["target"]: _Figures(d) for d in row.deadlines}
        ratings = {int(r["score"]): int(r["n"]) for r in row.ratings}
        booked = int(visits.booked)
        by_reason = sorted(
            ((str(r["reason"]), int(r["n"])) for r in row.moves),
            key=lambda item: (-item[1], item[0]),
        )
        rescheduled = sum(n for _, n in by_reason)
        rated = sum(ratings.values())
        return schemas.Kpis(
            period_from=query.start,
            period_to=query.end,
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
        )


class _Figures:
    """One family's JSON object, its fields read as attributes."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values[name]


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)
