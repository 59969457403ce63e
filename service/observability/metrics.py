"""Prometheus metrics: HTTP by route (Litestar's plugin), domain events, state from PostgreSQL.

Two kinds of figures, chosen so that no process holds truth of its own:

* events counted where they happen (sync operations by result, bookings and lost races), in
  ``prometheus_client`` counters; with several processes per host set
  ``PROMETHEUS_MULTIPROC_DIR`` (``naryad serve --workers N`` does) and one scrape sums them;
* state read from PostgreSQL at scrape time (outbox depth by status, dead messages, the oldest
  pending message's age, escalations raised, open breaches, periodic job runs and last
  success): every process answers the same, whichever one the scrape reaches.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.models.outbox import OUTBOX_STATUSES

PREFIX = "naryad"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# The scrape's queries give up rather than hold a connection (Prometheus times out at 10 s).
SCRAPE_STATEMENT_TIMEOUT_MS = 2000

SYNC_OPERATIONS = Counter(
    f"{PREFIX}_sync_operations",
    "Offline sync operations pushed by phones, by result (applied, duplicate, conflict...)",
    ["result"],
)
BOOKINGS = Counter(
    f"{PREFIX}_bookings",
    "Visit booking attempts: booked, or lost to another booking of the same technician",
    ["outcome"],
)


def http_metrics_config() -> PrometheusConfig:
    """Requests by route template (not raw path: bounded labels, no tokens) and status."""
    return PrometheusConfig(
        app_name="naryad",
        prefix=f"{PREFIX}_http",
        group_path=True,
        exclude=["^/metrics", "^/static/"],
        buckets=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
    )


class _Snapshot(Collector):
    """Metric families built from one scrape's query results."""

    def __init__(self, families: list[GaugeMetricFamily | CounterMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        return self.families


def _seconds(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


async def domain_families(engine: AsyncEngine) -> list[GaugeMetricFamily | CounterMetricFamily]:
    """The state metrics, read in one short read-only transaction."""
    async with engine.connect() as connection:
        await connection.execute(text("SET TRANSACTION READ ONLY"))
        await connection.execute(
            text(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}")
        )
        outbox = (
            await connection.execute(
                text(
                    "SELECT status, count(*) FROM outbox_messages GROUP BY status "
                    "UNION ALL SELECT 'oldest_pending_age', COALESCE(EXTRACT(EPOCH FROM "
                    "now() - min(created_at)), 0)::bigint FROM outbox_messages "
                    "WHERE status = 'pending'"
                )
            )
        ).all()
        escalations = (
            await connection.execute(text("SELECT level, count(*) FROM escalations GROUP BY level"))
        ).all()
        open_breaches = await connection.scalar(
            text("SELECT count(*) FROM sla_clocks WHERE status = 'breached'")
        )
        jobs = (
            await connection.execute(
                text("SELECT name, runs, failures, last_success_at FROM job_schedule ORDER BY name")
            )
        ).all()
        await connection.rollback()

    figures = {str(row[0]): float(row[1]) for row in outbox}
    depth = GaugeMetricFamily(
        f"{PREFIX}_outbox_messages", "Outbox messages by status", labels=["status"]
    )
    for status in OUTBOX_STATUSES:
        depth.add_metric([status], figures.get(status, 0.0))
    dead = GaugeMetricFamily(
        f"{PREFIX}_outbox_dead_messages",
        "Messages that used up their attempts (list and retry them in /api/v1/admin/outbox)",
        value=figures.get("dead", 0.0),
    )
    oldest = GaugeMetricFamily(
        f"{PREFIX}_outbox_oldest_pending_age_seconds",
        "Age of the oldest message still waiting for delivery (0 when none)",
        value=figures.get("oldest_pending_age", 0.0),
    )
    raised = CounterMetricFamily(
        f"{PREFIX}_escalations_raised", "Escalations raised, by level", labels=["level"]
    )
    for level, count in escalations:
        raised.add_metric([str(level)], float(count))
    breaches = GaugeMetricFamily(
        f"{PREFIX}_sla_open_breaches",
        "SLA clocks breached and not yet settled",
        value=float(open_breaches or 0),
    )
    runs = CounterMetricFamily(
        f"{PREFIX}_job_runs", "Successful runs of each periodic job, all workers", labels=["job"]
    )
    failures = CounterMetricFamily(
        f"{PREFIX}_job_failures", "Failed runs of each periodic job, all workers", labels=["job"]
    )
    last_success = GaugeMetricFamily(
        f"{PREFIX}_job_last_success_timestamp_seconds",
        "When each periodic job last succeeded (Unix time; 0: never)",
        labels=["job"],
    )
    for name, run_count, failure_count, succeeded_at in jobs:
        runs.add_metric([name], float(run_count))
        failures.add_metric([name], float(failure_count))
        last_success.add_metric([name], _seconds(succeeded_at))
    return [depth, dead, oldest, raised, breaches, runs, failures, last_success]


def process_registry() -> CollectorRegistry:
    """This process's metrics, or all processes' in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


async def scrape(engine: AsyncEngine) -> bytes:
    """The text exposition: process metrics, then the database's."""
    domain = CollectorRegistry(auto_describe=False)
    domain.register(_Snapshot(await domain_families(engine)))
    return generate_latest(process_registry()) + generate_latest(domain)
