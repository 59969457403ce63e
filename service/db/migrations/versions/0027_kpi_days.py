"""Daily KPI aggregates per territory and technician, the touches that make a day stale.

Revision ID: 0027
Revises: 0026

See service/db/kpi_days.py. ``kpi_days`` holds one UTC day's figures per territory (``total``)
and per technician; ``kpi_day_state`` the snapshot each day was summed from; ``kpi_touches``
the days each writing transaction may have changed, recorded by triggers on the tables the
figures read. The backfill sums the last 400 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statement-level triggers with transition tables: one set-wise insert per statement, whatever
# its number of rows (a bulk insert of 100k visits must not run 100k lookups). ``changed`` is
# the rows a statement wrote, old and new versions alike; each function lists the timestamps
# whose UTC days they may change. Once per transaction and day (ON CONFLICT).
_TOUCH = """
    INSERT INTO kpi_touches (day, xid)
    SELECT DISTINCT (t AT TIME ZONE 'UTC')::date, pg_current_xact_id()
    FROM ({days}) AS s(t)
    WHERE t IS NOT NULL
    ON CONFLICT DO NOTHING;
"""

_DAYS = {
    # A visit's own times; its order's completions (their visit counts and "earlier" flags)
    # and clocks (the technicians they count for); its order's events and ratings (their
    # technician).
    "visits": """
        SELECT unnest(ARRAY[c.created_at, c.arrived_at, c.finished_at]) FROM changed c
        UNION ALL SELECT v.finished_at FROM visits v
            WHERE v.work_order_id IN (SELECT work_order_id FROM changed)
              AND v.status = 'completed'
        UNION ALL SELECT k.settled_at FROM sla_clocks k
            WHERE k.work_order_id IN (SELECT work_order_id FROM changed)
        UNION ALL SELECT e.occurred_at FROM work_order_events e
            WHERE e.work_order_id IN (SELECT work_order_id FROM changed)
              AND e.kind = 'visit.rescheduled'
        UNION ALL SELECT r.created_at FROM ratings r
            WHERE r.work_order_id IN (SELECT work_order_id FROM changed)
    """,
    "sla_clocks": "SELECT settled_at FROM changed",
    "ratings": "SELECT created_at FROM changed",
    "work_order_events": "SELECT occurred_at FROM changed WHERE kind = 'visit.rescheduled'",
    "checklist_answers": """
        SELECT v.finished_at FROM visits v WHERE v.id IN (SELECT visit_id FROM changed)
    """,
    "visit_checklists": """
        SELECT v.finished_at FROM visits v WHERE v.id IN (SELECT visit_id FROM changed)
    """,
}

# An UPDATE counts only when a column the figures read changed (clocks are updated every
# minute while they run; visits for many reasons).
_COLUMNS = {
    "visits": "status, technician_id, arrived_at, finished_at, agreed_window, created_at,"
    " territory_id, work_order_id",
    "sla_clocks": "settled_at, status, target, territory_id, work_order_id",
    "ratings": "created_at, score, visit_id, territory_id, work_order_id",
    "work_order_events": "occurred_at, kind, data, visit_id, territory_id, work_order_id",
    "checklist_answers": "visit_id, step_id, value, photo_ids",
    "visit_checklists": "visit_id, template_key, template_version",
}


# How an old row version meets its new one.
_KEYS = {"sla_clocks": "work_order_id, target", "visit_checklists": "visit_id"}


def _function(table: str) -> str:
    columns = _COLUMNS[table]
    keys = _KEYS.get(table, "id")
    same = " AND ".join(f"n.{key} = o.{key}" for key in keys.split(", "))
    changed = {
        "INSERT": "SELECT * FROM new_rows",
        "DELETE": "SELECT * FROM old_rows",
        # Both versions of the rows whose figures' columns changed.
        "UPDATE": f"""
            SELECT o.* FROM old_rows o JOIN new_rows n ON {same}
            WHERE (o.{columns.replace(", ", ", o.")}) IS DISTINCT FROM
                  (n.{columns.replace(", ", ", n.")})
            UNION ALL
            SELECT n.* FROM old_rows o JOIN new_rows n ON {same}
            WHERE (o.{columns.replace(", ", ", o.")}) IS DISTINCT FROM
                  (n.{columns.replace(", ", ", n.")})
        """,  # noqa: S608 - column names of this module
    }
    branches = "\n".join(
        f"IF TG_OP = '{op}' THEN WITH changed AS ({rows}) {_TOUCH.format(days=_DAYS[table])}"
        " END IF;"
        for op, rows in changed.items()
    )
    return (
        f"CREATE FUNCTION kpi_touch_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {branches} RETURN NULL; END $$"
    )


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE kpi_days (
            day date NOT NULL,
            territory_id uuid,
            total boolean NOT NULL,
            technician_id uuid,
            arrivals bigint NOT NULL,
            on_time bigint NOT NULL,
            ended bigint NOT NULL,
            no_access bigint NOT NULL,
            booked bigint NOT NULL,
            completed bigint NOT NULL,
            first_visit bigint NOT NULL,
            visits_sum bigint NOT NULL,
            minutes float8[] NOT NULL,
            redone jsonb,
            moves jsonb,
            checklist_visits bigint NOT NULL,
            compliance_sum numeric NOT NULL,
            checklist_complete bigint NOT NULL,
            deadlines jsonb,
            ratings jsonb
        )
        """
    )
    op.execute("CREATE INDEX ix_kpi_days_day ON kpi_days (day, total, technician_id)")
    op.execute("CREATE TABLE kpi_day_state (day date PRIMARY KEY, snapshot pg_snapshot NOT NULL)")
    op.execute(
        "CREATE TABLE kpi_touches (day date NOT NULL, xid xid8 NOT NULL, PRIMARY KEY (day, xid))"
    )
    for table in _DAYS:
        op.execute(_function(table))
        for event, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_kpi_touch_{event.lower()} AFTER {event} ON {table}"
                f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION kpi_touch_{table}()"
            )
    _backfill()


def _backfill() -> None:
    from service.db.kpi_days import HORIZON_DAYS, REFRESH_DAY, STALE_DAYS

    bind = op.get_bind()
    today = datetime.now(UTC).date()
    first = today.fromordinal(today.toordinal() - HORIZON_DAYS)
    last = today.fromordinal(today.toordinal() - 1)
    for (day,) in bind.execute(STALE_DAYS, {"first": first, "last": last}).all():
        bind.execute(REFRESH_DAY, {"day": day})


def downgrade() -> None:
    for table in _DAYS:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_kpi_touch_{event} ON {table}")
        op.execute(f"DROP FUNCTION kpi_touch_{table}()")
    op.execute("DROP TABLE kpi_touches")
    op.execute("DROP TABLE kpi_day_state")
    op.execute("DROP TABLE kpi_days")
