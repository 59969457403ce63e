"""Quality figures in one statement, from daily aggregates and the records (see kpi_days.py).

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
- overdue: open orders now, and those past their control deadline;
- appeals: registered in the period, complaints and repeats among them, the share answered on
  time of those due in the period, open ones overdue now, the top complaint reasons (read from
  the appeals table: appeals are few, see ``service.appeals.analysis``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals.analysis import appeal_kpis
from service.appeals.schemas import AppealKpi
from service.board import schemas
from service.common.actor import Actor
from service.db.base import utcnow
from service.db.kpi_days import FACTS_CTES, FIGURES
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.db.standby import StandbyReads
from service.errors import FieldError, ValidationFailed


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


_OPEN = "(" + ", ".join(f"'{status}'" for status in OPEN_ORDER_STATUSES) + ")"
_FRAGMENTS = {
    "$ORDER_SCOPE": _scope("wo"),
    "$DAY_SCOPE": _scope("k"),
    "$TECH_OF_ORDER": _tech_order("wo.id"),
    "$OPEN": _OPEN,
}


def _query(sql: str) -> TextClause:
    """A statement with the fixed fragments above spliced in; every value is a bound parameter."""
    for marker, fragment in _FRAGMENTS.items():
        sql = sql.replace(marker, fragment)
    return text(sql)


# Every family in one statement, from the daily aggregates (service/db/kpi_days.py) of the
# UTC days inside the period that are clean, and from the records for the rest of the period
# (its partial first and last days, today, days touched since they were summed): the same
# facts either way, summed together. The overdue family is "now" and read from work_orders.
MONTH = _query(
    f"""
    WITH covered AS MATERIALIZED (
        SELECT s.day FROM kpi_day_state s
        WHERE s.day >= (CAST(:start AS timestamptz) AT TIME ZONE 'UTC')::date
          AND s.day < (CAST(:end AS timestamptz) AT TIME ZONE 'UTC')::date
          AND s.day::timestamp AT TIME ZONE 'UTC' >= CAST(:start AS timestamptz)
          AND NOT EXISTS (
              SELECT 1 FROM kpi_touches t
              WHERE t.day = s.day AND NOT pg_visible_in_snapshot(t.xid, s.snapshot)
          )
    ), ranges AS MATERIALIZED (
        SELECT lower(x) AS lo, upper(x) AS hi
        FROM unnest(
            tstzmultirange(tstzrange(CAST(:start AS timestamptz), CAST(:end AS timestamptz)))
            - coalesce(
                (SELECT range_agg(tstzrange(day::timestamp AT TIME ZONE 'UTC',
                                            (day + 1)::timestamp AT TIME ZONE 'UTC'))
                 FROM covered),
                '{{}}'::tstzmultirange
            )
        ) AS x
    ), {FACTS_CTES}, parts AS MATERIALIZED (
        SELECT k.{FIGURES.replace(", ", ", k.")}
        FROM kpi_days k
        WHERE k.day IN (SELECT day FROM covered)
          AND k.total = (CAST(:technician AS uuid) IS NULL)
          AND (k.total OR k.technician_id = CAST(:technician AS uuid))
          AND $DAY_SCOPE
        UNION ALL
        SELECT {FIGURES}
        FROM facts k
        WHERE k.total = (CAST(:technician AS uuid) IS NULL)
          AND (k.total OR k.technician_id = CAST(:technician AS uuid))
          AND $DAY_SCOPE
    ), redone AS (
        -- A later completion of an order counts when the order's previous one is before the
        -- period: it is then the order's first completion inside it.
        SELECT (x->>'first')::int AS first, (x->>'visits')::bigint AS visits,
               (x->>'minutes')::float8 AS minutes
        FROM parts p, jsonb_array_elements(p.redone) AS x
        WHERE (x->>'prev')::timestamptz < CAST(:start AS timestamptz)
    ), visit_figures AS (
        SELECT coalesce(sum(arrivals), 0) AS arrivals, coalesce(sum(on_time), 0) AS on_time,
               coalesce(sum(ended), 0) AS ended, coalesce(sum(no_access), 0) AS no_access,
               coalesce(sum(booked), 0) AS booked
        FROM parts
    ), counts AS (
        SELECT coalesce((SELECT sum(completed) FROM parts), 0)
                   + (SELECT count(*) FROM redone) AS completed,
               coalesce((SELECT sum(first_visit) FROM parts), 0)
                   + (SELECT coalesce(sum(first), 0) FROM redone) AS first_visit,
               coalesce((SELECT sum(visits_sum) FROM parts), 0)
                   + (SELECT coalesce(sum(visits), 0) FROM redone) AS visits
    ), resolution AS (
        SELECT c.completed, c.first_visit,
               c.visits::numeric / nullif(c.completed, 0) AS visits_per_order,
               (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY m)
                FROM (SELECT unnest(minutes) AS m FROM parts
                      UNION ALL SELECT minutes FROM redone) AS all_minutes) AS median_minutes
        FROM counts c
    ), moves AS (
        SELECT m.key AS reason, sum(m.value::bigint) AS n
        FROM parts p, jsonb_each_text(p.moves) AS m
        GROUP BY m.key
    ), checklists AS (
        SELECT coalesce(sum(checklist_visits), 0) AS visits,
               sum(compliance_sum) / nullif(sum(checklist_visits), 0) AS compliance,
               coalesce(sum(checklist_complete), 0) AS complete
        FROM parts
    ), deadlines AS (
        SELECT d.key AS target, sum((d.value->>0)::bigint) AS met,
               sum((d.value->>1)::bigint) AS breached
        FROM parts p, jsonb_each(p.deadlines) AS d
        GROUP BY d.key
    ), rated AS (
        SELECT r.key::int AS score, sum(r.value::bigint) AS n
        FROM parts p, jsonb_each_text(p.ratings) AS r
        GROUP BY r.key
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
    """  # noqa: S608 - fixed fragments; values are bound
).columns(
    visits=JSONB,
    resolution=JSONB,
    moves=JSONB,
    checklists=JSONB,
    deadlines=JSONB,
    ratings=JSONB,
    overdue=JSONB,
)


# Month-sized sorts and hashes stay in memory; no JIT: the planner cannot know how few rows the
# daily aggregates leave, and compiling the statement took seconds where it runs in tens of ms.
# Both end with the request's transaction.
STATEMENT_SETTINGS = "SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true)"


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


# No standby configured: every read on the request's session.
PRIMARY_ONLY = StandbyReads(None, 0.0)


class KpiService:
    """Computes the figures for one caller, on the standby when one may answer."""

    def __init__(
        self, session: AsyncSession, actor: Actor, standby: StandbyReads = PRIMARY_ONLY
    ) -> None:
        self.session = session
        self.actor = actor
        self.standby = standby

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
            "all_rows": False,  # the facts of the request's own scope only (kpi_days.FACTS_CTES)
        }

    async def compute(self, query: KpiQuery) -> schemas.Kpis:
        """Every family of figures."""
        now = utcnow()
        params = self.parameters(query, now)

        # Every family in one read, so all of them are as of ``data_as_of`` (the standby's
        # snapshot when it answers).
        async def figures(session: AsyncSession) -> tuple[Any, AppealKpi]:
            await session.execute(text(STATEMENT_SETTINGS))
            row = (await session.execute(MONTH, params)).one()
            appeals = await appeal_kpis(
                session,
                self.actor,
                query.start,
                query.end,
                territory_id=query.territory_id,
                technician_id=query.technician_id,
                now=now,
            )
            return row, appeals

        read = await self.standby.read(self.session, figures)
        row, appeals = read.value
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
            data_as_of=read.as_of,
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
            appeals=appeals,
        )


class _Figures:
    """One family's JSON object, its fields read as attributes."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values[name]


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)
