"""Daily KPI aggregates per territory and technician, the touches that make a day stale.

Revision ID: 0026
Revises: 0025

See service/board/kpi_days.py. ``kpi_days`` holds one UTC day's figures per territory (``total``)
and per technician; ``kpi_day_state`` the snapshot each day was summed from; ``kpi_touches``
the days each writing transaction may have changed, recorded by triggers on the tables the
figures read. The backfill sums the last 400 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each function inserts the UTC days of the timestamps it lists, once per transaction.
_TOUCH = """
    INSERT INTO kpi_touches (day, xid)
    SELECT DISTINCT (t AT TIME ZONE 'UTC')::date, pg_current_xact_id()
    FROM ({days}) AS s(t)
    WHERE t IS NOT NULL
    ON CONFLICT DO NOTHING;
"""

_FUNCTIONS = {
    # A visit's own times; its order's completions (their visit counts and "earlier" flags)
    # and clocks (the technicians they count for); its events and rating (their technician).
    "visits": """
        SELECT unnest(ARRAY[NEW.created_at, NEW.arrived_at, NEW.finished_at,
                            OLD.created_at, OLD.arrived_at, OLD.finished_at])
        UNION ALL SELECT finished_at FROM visits
            WHERE work_order_id IN (NEW.work_order_id, OLD.work_order_id)
              AND status = 'completed'
        UNION ALL SELECT settled_at FROM sla_clocks
            WHERE work_order_id IN (NEW.work_order_id, OLD.work_order_id)
        UNION ALL SELECT occurred_at FROM work_order_events
            WHERE work_order_id IN (NEW.work_order_id, OLD.work_order_id)
              AND kind = 'visit.rescheduled'
        UNION ALL SELECT created_at FROM ratings
            WHERE work_order_id IN (NEW.work_order_id, OLD.work_order_id)
    """,
    "sla_clocks": "SELECT unnest(ARRAY[NEW.settled_at, OLD.settled_at])",
    "ratings": "SELECT unnest(ARRAY[NEW.created_at, OLD.created_at])",
    "work_order_events": """
        SELECT unnest(ARRAY[NEW.occurred_at, OLD.occurred_at])
        WHERE 'visit.rescheduled' IN (NEW.kind, OLD.kind)
    """,
    "checklist_answers": """
        SELECT finished_at FROM visits WHERE id IN (NEW.visit_id, OLD.visit_id)
    """,
    "visit_checklists": """
        SELECT finished_at FROM visits WHERE id IN (NEW.visit_id, OLD.visit_id)
    """,
}

# UPDATE triggers fire only when a column the figures read is set.
_UPDATE_COLUMNS = {
    "visits": "status, technician_id, arrived_at, finished_at, agreed_window, created_at,"
    " territory_id, work_order_id",
    "sla_clocks": "settled_at, status, target, territory_id",
    "ratings": "created_at, score, visit_id, territory_id",
    "work_order_events": "occurred_at, kind, data, visit_id, territory_id",
    "checklist_answers": "visit_id, step_id, value, photo_ids",
    "visit_checklists": "visit_id, template_key, template_version",
}


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
    for table, days in _FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION kpi_touch_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {_TOUCH.format(days=days)} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_kpi_touch_insert_delete AFTER INSERT OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION kpi_touch_{table}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_kpi_touch_update AFTER UPDATE OF {_UPDATE_COLUMNS[table]}"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION kpi_touch_{table}()"
        )
    _backfill()


def _backfill() -> None:
    from service.board.kpi_days import HORIZON_DAYS, REFRESH_DAY, STALE_DAYS

    bind = op.get_bind()
    today = datetime.now(UTC).date()
    first = today.fromordinal(today.toordinal() - HORIZON_DAYS)
    last = today.fromordinal(today.toordinal() - 1)
    for (day,) in bind.execute(STALE_DAYS, {"first": first, "last": last}).all():
        bind.execute(REFRESH_DAY, {"day": day})


def downgrade() -> None:
    for table in _FUNCTIONS:
        op.execute(f"DROP TRIGGER {table}_kpi_touch_update ON {table}")
        op.execute(f"DROP TRIGGER {table}_kpi_touch_insert_delete ON {table}")
        op.execute(f"DROP FUNCTION kpi_touch_{table}()")
    op.execute("DROP TABLE kpi_touches")
    op.execute("DROP TABLE kpi_day_state")
    op.execute("DROP TABLE kpi_days")
