"""Daily KPI aggregates per territory (and per technician), and the facts they are made of.

A month of KPIs read every visit, clock, rating and event of the month (1.5 s at 1M orders,
then 0.7 s in one statement). Past days do not change often, so each UTC day is summed once
into ``kpi_days`` (migration 0027) and a month adds ~30 rows per territory to the few days
that still have to be read from the records: the partial days at the edges of the period,
today, and any day written to since it was summed.

How a day stays exact:

- ``FACTS`` is the only definition of the figures. The refresh stores its rows for one day;
  a KPI request runs the same SQL over the ranges no clean day covers. Both feed one sum.
- Every figure is a count or an exact (integer or numeric) sum, except two: the median
  resolution time keeps the day's values (``minutes``), and an order completed more than once
  counts once, at its first completion in the period. Each completion therefore carries the
  time of the order's previous completion (``prev``): the first ones are summed; a later one
  is kept as an item (``redone``) and counted only when that previous completion falls before
  the period, which is exactly when the direct computation would pick it.
- Triggers on visits, clocks, ratings, events and checklist answers record, per transaction,
  the UTC days a write can change (``kpi_touches``: every day of the visit's own times, of its
  order's completions and clocks, of its events and ratings). A day is clean when it was
  summed from a snapshot in which every touch of it is visible; otherwise it is read raw.
  The refresh runs as one statement, so its rows and the snapshot it records agree.

The worker's ``refresh_kpi_days`` job sums the past days that are missing or touched.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models.coordination import CLOCK_TARGETS

FINAL_VISIT_STATUSES = (
    "completed",
    "no_access",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
)
_FINAL = "(" + ", ".join(f"'{status}'" for status in FINAL_VISIT_STATUSES) + ")"
# Every target a clock can have (a check constraint): lets the (target, settled_at) index serve.
_TARGETS = "(" + ", ".join(f"'{target}'" for target in CLOCK_TARGETS) + ")"

# The columns of kpi_days after (day, territory_id, total, technician_id).
FIGURES = (
    "arrivals, on_time, ended, no_access, booked, completed, first_visit, visits_sum, minutes,"
    " redone, moves, checklist_visits, compliance_sum, checklist_complete, deadlines, ratings"
)

# The facts of the time ranges in ``ranges(lo, hi)`` (a CTE the caller defines), grouped per
# UTC day, territory and technician: one row per (day, territory) with ``total`` (every
# technician) and one per (day, territory, technician). ``:all_rows`` false builds only the
# rows a request asks for (totals, or its one technician's).
FACTS_CTES = f"""
    steps AS MATERIALIZED (
        SELECT t.key, t.version, s->>'id' AS step_id
        FROM checklist_templates t,
             jsonb_array_elements(t.content->'phases') AS p,
             jsonb_array_elements(p->'steps') AS s
        WHERE coalesce((s->>'required')::boolean, true) AND s->>'visible_when' IS NULL
    ), finished AS MATERIALIZED (
        SELECT v.id, v.work_order_id, v.territory_id, v.technician_id, v.status, v.finished_at
        FROM ranges r JOIN visits v ON v.finished_at >= r.lo AND v.finished_at < r.hi
    ), items AS (
        SELECT v.arrived_at AS at, v.territory_id, v.technician_id, 'arrival' AS kind,
               NULL::text AS key, coalesce(v.agreed_window @> v.arrived_at, false)::int AS a,
               0::bigint AS b, NULL::numeric AS c, NULL::float8 AS m,
               NULL::timestamptz AS prev_all, NULL::timestamptz AS prev_tech
        FROM ranges r JOIN visits v ON v.arrived_at >= r.lo AND v.arrived_at < r.hi
        UNION ALL
        SELECT v.finished_at, v.territory_id, v.technician_id, 'ended', NULL,
               (v.status = 'no_access')::int, 0, NULL, NULL, NULL, NULL
        FROM finished v
        WHERE v.status IN {_FINAL}
        UNION ALL
        SELECT v.created_at, v.territory_id, v.technician_id, 'booked', NULL, 0, 0, NULL, NULL,
               NULL, NULL
        FROM ranges r JOIN visits v ON v.created_at >= r.lo AND v.created_at < r.hi
        UNION ALL
        SELECT v.finished_at, v.territory_id, v.technician_id, 'done', NULL,
               (NOT o.earlier)::int, o.visits, NULL,
               (extract(epoch FROM v.finished_at - wo.created_at) / 60)::float8,
               o.prev_all, o.prev_tech
        FROM finished v
        JOIN work_orders wo ON wo.id = v.work_order_id
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE a.status <> 'cancelled') AS visits,
                   coalesce(bool_or(a.id <> v.id AND a.status IN {_FINAL}
                                    AND a.finished_at < v.finished_at), false) AS earlier,
                   max(a.finished_at) FILTER (WHERE a.id <> v.id AND a.status = 'completed'
                       AND (a.finished_at, a.id) < (v.finished_at, v.id)) AS prev_all,
                   max(a.finished_at) FILTER (WHERE a.id <> v.id AND a.status = 'completed'
                       AND (a.finished_at, a.id) < (v.finished_at, v.id)
                       AND a.technician_id = v.technician_id) AS prev_tech
            FROM visits a WHERE a.work_order_id = v.work_order_id
        ) o
        WHERE v.status = 'completed'
        UNION ALL
        SELECT e.occurred_at, e.territory_id,
               (SELECT v.technician_id FROM visits v WHERE v.id = e.visit_id), 'move',
               coalesce(e.data->>'reason', 'unknown'), 0, 0, NULL, NULL, NULL, NULL
        FROM ranges r
        JOIN work_order_events e ON e.occurred_at >= r.lo AND e.occurred_at < r.hi
        WHERE e.kind = 'visit.rescheduled'
        UNION ALL
        SELECT v.finished_at, v.territory_id, v.technician_id, 'checklist', NULL,
               (sc.answered = sc.required)::int, 0, sc.answered::numeric / sc.required, NULL,
               NULL, NULL
        FROM finished v
        JOIN visit_checklists vc ON vc.visit_id = v.id
        CROSS JOIN LATERAL (
            SELECT count(*) AS required,
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM checklist_answers a
                       WHERE a.visit_id = v.id AND a.step_id = st.step_id
                         AND (a.value IS NOT NULL OR cardinality(a.photo_ids) > 0)
                   )) AS answered
            FROM steps st
            WHERE st.key = vc.template_key AND st.version = vc.template_version
        ) sc
        WHERE v.status IN {_FINAL} AND sc.required > 0
        UNION ALL
        SELECT c.settled_at, c.territory_id, NULL, 'clock', c.target,
               (c.status = 'met')::int, (c.status = 'breached')::int, NULL, NULL, NULL, NULL
        FROM ranges r JOIN sla_clocks c ON c.settled_at >= r.lo AND c.settled_at < r.hi
             AND c.target IN $TARGETS
        WHERE CAST(:all_rows AS boolean) OR CAST(:technician AS uuid) IS NULL
        UNION ALL
        SELECT c.settled_at, c.territory_id, t.technician_id, 'clock_tech', c.target,
               (c.status = 'met')::int, (c.status = 'breached')::int, NULL, NULL, NULL, NULL
        FROM ranges r JOIN sla_clocks c ON c.settled_at >= r.lo AND c.settled_at < r.hi
             AND c.target IN $TARGETS
        CROSS JOIN LATERAL (
            SELECT DISTINCT tv.technician_id FROM visits tv
            WHERE tv.work_order_id = c.work_order_id AND tv.status <> 'cancelled'
              AND tv.technician_id IS NOT NULL
              AND (CAST(:all_rows AS boolean) OR tv.technician_id = CAST(:technician AS uuid))
        ) t
        WHERE CAST(:all_rows AS boolean) OR CAST(:technician AS uuid) IS NOT NULL
        UNION ALL
        SELECT rt.created_at, rt.territory_id,
               (SELECT v.technician_id FROM visits v WHERE v.id = rt.visit_id), 'rating',
               rt.score::text, 0, 0, NULL, NULL, NULL, NULL
        FROM ranges r JOIN ratings rt ON rt.created_at >= r.lo AND rt.created_at < r.hi
    ), sides AS (
        SELECT (i.at AT TIME ZONE 'UTC')::date AS day, i.territory_id, g.total,
               CASE WHEN g.total THEN NULL ELSE i.technician_id END AS technician_id,
               i.kind, i.key, i.a, i.b, i.c, i.m,
               CASE WHEN g.total THEN i.prev_all ELSE i.prev_tech END AS prev
        FROM items i CROSS JOIN (VALUES (true), (false)) AS g(total)
        WHERE CASE WHEN g.total
                   THEN i.kind <> 'clock_tech'
                        AND (CAST(:all_rows AS boolean) OR CAST(:technician AS uuid) IS NULL)
                   ELSE i.kind <> 'clock' AND i.technician_id IS NOT NULL
                        AND (CAST(:all_rows AS boolean)
                             OR i.technician_id = CAST(:technician AS uuid))
              END
    ), per_key AS (
        SELECT day, territory_id, total, technician_id, kind, key,
               count(*) FILTER (WHERE prev IS NULL) AS n,
               sum(a) FILTER (WHERE prev IS NULL) AS sa,
               sum(b) FILTER (WHERE prev IS NULL) AS sb,
               sum(c) AS sc,
               array_agg(m) FILTER (WHERE kind = 'done' AND prev IS NULL) AS ms,
               jsonb_agg(jsonb_build_object('prev', prev, 'first', a, 'visits', b, 'minutes', m))
                   FILTER (WHERE prev IS NOT NULL) AS redone
        FROM sides
        GROUP BY day, territory_id, total, technician_id, kind, key
    ), facts AS (
        SELECT day, territory_id, total, technician_id,
               coalesce(sum(n) FILTER (WHERE kind = 'arrival'), 0)::bigint AS arrivals,
               coalesce(sum(sa) FILTER (WHERE kind = 'arrival'), 0)::bigint AS on_time,
               coalesce(sum(n) FILTER (WHERE kind = 'ended'), 0)::bigint AS ended,
               coalesce(sum(sa) FILTER (WHERE kind = 'ended'), 0)::bigint AS no_access,
               coalesce(sum(n) FILTER (WHERE kind = 'booked'), 0)::bigint AS booked,
               coalesce(sum(n) FILTER (WHERE kind = 'done'), 0)::bigint AS completed,
               coalesce(sum(sa) FILTER (WHERE kind = 'done'), 0)::bigint AS first_visit,
               coalesce(sum(sb) FILTER (WHERE kind = 'done'), 0)::bigint AS visits_sum,
               coalesce(max(ms) FILTER (WHERE kind = 'done'), '{{}}')::float8[] AS minutes,
               (array_agg(redone) FILTER (WHERE kind = 'done' AND redone IS NOT NULL))[1]
                   AS redone,
               jsonb_object_agg(key, n) FILTER (WHERE kind = 'move') AS moves,
               coalesce(sum(n) FILTER (WHERE kind = 'checklist'), 0)::bigint AS checklist_visits,
               coalesce(sum(sc) FILTER (WHERE kind = 'checklist'), 0)::numeric AS compliance_sum,
               coalesce(sum(sa) FILTER (WHERE kind = 'checklist'), 0)::bigint
                   AS checklist_complete,
               jsonb_object_agg(key, jsonb_build_array(sa, sb))
                   FILTER (WHERE kind IN ('clock', 'clock_tech')) AS deadlines,
               jsonb_object_agg(key, n) FILTER (WHERE kind = 'rating') AS ratings
        FROM per_key
        GROUP BY day, territory_id, total, technician_id
    )
""".replace("$TARGETS", _TARGETS)  # noqa: S608 - fixed fragments; values are bound

# Sum one UTC day into kpi_days, from the snapshot recorded with it (one statement, so one
# snapshot), and forget the touches that snapshot already sees.
REFRESH_DAY = text(
    f"""
    WITH ranges AS (
        SELECT CAST(:day AS date)::timestamp AT TIME ZONE 'UTC' AS lo,
               (CAST(:day AS date) + 1)::timestamp AT TIME ZONE 'UTC' AS hi
    ), {FACTS_CTES}, cleared AS (
        DELETE FROM kpi_days WHERE day = CAST(:day AS date)
    ), stored AS (
        INSERT INTO kpi_days (day, territory_id, total, technician_id, {FIGURES})
        SELECT day, territory_id, total, technician_id, {FIGURES} FROM facts
    ), seen AS (
        DELETE FROM kpi_touches
        WHERE day = CAST(:day AS date) AND pg_visible_in_snapshot(xid, pg_current_snapshot())
    )
    INSERT INTO kpi_day_state (day, snapshot) VALUES (CAST(:day AS date), pg_current_snapshot())
    ON CONFLICT (day) DO UPDATE SET snapshot = excluded.snapshot
    """  # noqa: S608 - fixed fragments; values are bound
).bindparams(all_rows=True, technician=None)

# Days in [:first, :last] not summed yet or touched since.
STALE_DAYS = text(
    """
    SELECT d::date AS day
    FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d
    WHERE NOT EXISTS (
        SELECT 1 FROM kpi_day_state s
        WHERE s.day = d::date AND NOT EXISTS (
            SELECT 1 FROM kpi_touches t
            WHERE t.day = s.day AND NOT pg_visible_in_snapshot(t.xid, s.snapshot)
        )
    )
    ORDER BY 1 DESC
    """
)

HORIZON_DAYS = 400  # a KPI period is at most 366 days


async def refresh_days(session: AsyncSession, today: date, limit: int | None = None) -> int:
    """Sum the past days (before ``today``, UTC) that are missing or touched; newest first."""
    first = today - timedelta(days=HORIZON_DAYS)
    last = today - timedelta(days=1)
    days = list(await session.scalars(STALE_DAYS, {"first": first, "last": last}))
    for day in days[:limit]:
        await session.execute(REFRESH_DAY, {"day": day})
    return len(days[:limit])
