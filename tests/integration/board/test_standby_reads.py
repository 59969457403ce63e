"""KPIs and the board's counts on the read replica (NARYAD_READ_DATABASE_URL), and only they.

A real standby is a copy of the whole cluster (tests/e2e/test_cluster_faults.py runs one).
Here the replica is the test database reached as a role of its own whose transactions are
read-only (``default_transaction_read_only``), so the server itself refuses any write sent
there; and a row-level policy hides one order from that role, so every figure says where it
was read: the replica sees one overdue order, the primary two.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.engine import make_url

from service.app import create_app
from service.board import view as board_view
from service.common.actor import Role
from service.db import standby
from service.db.models import Escalation, WorkOrder
from service.settings import Settings
from tests.cluster import free_ports
from tests.integration.appeals.helpers import register_id
from tests.integration.board.test_board_page import csrf, login, tiles
from tests.integration.builders import Builder, Person

pytestmark = pytest.mark.asyncio

KPIS = "/api/v1/coordination/kpis"
_AS_OF = re.compile(r'<p class="meta" id="kpis-as-of">([^<]+)</p>')


def reads(target: str, reason: str) -> float:
    """naryad_standby_reads_total for one target and reason, in this process."""
    value = REGISTRY.get_sample_value(
        "naryad_standby_reads_total", {"target": target, "reason": reason}
    )
    return value or 0.0


async def _as_owner(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def replica_url(settings: Settings) -> AsyncIterator[str]:
    """The test database as a read-only role: a stand-in for a hot standby."""
    url = settings.database.url
    database = make_url(url).database
    role = f"naryad_replica_{uuid.uuid4().hex[:10]}"
    await _as_owner(
        url,
        f"CREATE ROLE {role} LOGIN PASSWORD 'replica'",
        f"ALTER ROLE {role} SET default_transaction_read_only = on",
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    )
    try:
        yield (
            make_url(url)
            .set(username=role, password="replica")
            .render_as_string(hide_password=False)
        )
    finally:
        await _as_owner(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 - our name
            f"WHERE usename = '{role}'",
            f"DROP OWNED BY {role}",
            f"DROP ROLE {role}",
        )


@asynccontextmanager
async def serving(settings: Settings, read_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Another app instance whose lag-tolerant reads go to ``read_url``."""
    database = msgspec.structs.replace(settings.database, read_url=read_url)
    app = create_app(msgspec.structs.replace(settings, database=database))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def fresh_kpis(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Board KPIs computed on every page (the process's cache would hide the reads)."""
    monkeypatch.setattr(board_view, "KPI_TTL_SECONDS", 0.0)
    yield  # noqa: PT022 - the monkeypatch undoes it after the test


async def _scene(build: Builder) -> tuple[WorkOrder, Person, Escalation]:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    now = datetime.now(UTC)
    late = await build.order(area, control_deadline=now - timedelta(hours=5))
    older = await build.order(area, control_deadline=now - timedelta(hours=30))
    async with build.sessionmaker() as session:
        escalation = Escalation(
            work_order_id=late.id,
            target="resolution",
            level="breach",
            due_at=now - timedelta(hours=5),
            recipient_role="coordinator",
            recipient_ids=[coordinator.user.id],
        )
        session.add(escalation)
        await session.commit()
    return older, coordinator, escalation


@asynccontextmanager
async def hidden_from(
    settings: Settings, role: str, row_id: uuid.UUID, table: str = "work_orders"
) -> AsyncIterator[None]:
    """The replica role does not see one row (the app's own role owns the table: it does)."""
    name = f"hide_{role}"
    await _as_owner(
        settings.database.url,
        f"CREATE POLICY {name} ON {table} FOR SELECT TO {role} USING (id <> '{row_id}')",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
    )
    try:
        yield
    finally:
        await _as_owner(
            settings.database.url,
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
            f"DROP POLICY {name} ON {table}",
        )


async def test_kpis_and_board_counts_read_the_replica_and_writes_stay_on_the_primary(
    settings: Settings, build: Builder, replica_url: str, fresh_kpis: None
) -> None:
    hidden, coordinator, escalation = await _scene(build)
    role = make_url(replica_url).username
    assert role is not None
    async with serving(settings, replica_url) as client, hidden_from(settings, role, hidden.id):
        before = reads("standby", "fresh")
        answered = await client.get(KPIS, headers=coordinator.headers)
        assert answered.status_code == 200, answered.text
        kpis = answered.json()
        assert kpis["overdue"]["open_orders"] == 1  # the replica's figure
        # A server not replaying WAL is as of now: the moment the figures were read.
        as_of = datetime.fromisoformat(kpis["data_as_of"])
        assert abs(as_of - datetime.fromisoformat(kpis["overdue"]["as_of"])) < timedelta(seconds=5)
        assert reads("standby", "fresh") == before + 1

        # The board: its counts and its KPIs on the replica, its rows on the primary.
        await login(client, coordinator, "en")
        before = reads("standby", "fresh")
        board = await client.get("/board")
        assert board.status_code == 200, board.text
        assert tiles(board.text)["total"] == 1  # the replica's count
        assert hidden.number in board.text  # the rows: the primary's
        assert reads("standby", "fresh") == before + 2
        assert _AS_OF.search(board.text), "the KPIs say when their data is from"

        # A write from the same page goes to the primary (the replica would refuse it).
        acknowledged = await client.post(
            f"/board/escalations/{escalation.id}/acknowledge",
            data={"csrf": csrf(board.text), "comment": "called the customer", "back": ""},
            follow_redirects=False,
        )
        assert acknowledged.status_code == 303, acknowledged.text
    async with build.sessionmaker() as session:
        stored = await session.scalar(select(Escalation).where(Escalation.id == escalation.id))
    assert stored is not None
    assert stored.acknowledged_at is not None


async def test_the_appeal_figures_are_read_on_the_replica_with_the_others(
    settings: Settings, build: Builder, replica_url: str, fresh_kpis: None
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    role = make_url(replica_url).username
    assert role is not None
    async with serving(settings, replica_url) as client:
        first = await register_id(client, coordinator, area)
        await register_id(client, coordinator, area)
        async with hidden_from(settings, role, uuid.UUID(first), table="appeals"):
            answered = await client.get(KPIS, headers=coordinator.headers)
            assert answered.status_code == 200, answered.text
            # The replica's figure (the primary has both), in the snapshot of ``data_as_of``.
            assert answered.json()["appeals"]["registered"] == 1

            await login(client, coordinator, "en")
            before = reads("standby", "fresh")
            board = await client.get("/board")
            assert board.status_code == 200, board.text
            assert re.search(r'data-kpi="appeals">\s*<span class="n">1</span>', board.text)
            # The counts and the KPIs, appeals among them: no third read of its own.
            assert reads("standby", "fresh") == before + 2


async def test_a_replica_that_is_down_leaves_the_figures_to_the_primary(
    settings: Settings, build: Builder, caplog: pytest.LogCaptureFixture
) -> None:
    _, coordinator, _ = await _scene(build)
    nowhere = (
        make_url(settings.database.url)
        .set(port=free_ports(1)[0])
        .render_as_string(hide_password=False)
    )
    async with serving(settings, nowhere) as client:
        before = reads("primary", "unavailable")
        with caplog.at_level(logging.WARNING, logger="naryad.db.standby"):
            answered = await client.get(KPIS, headers=coordinator.headers)
        assert answered.status_code == 200, answered.text
        assert answered.json()["overdue"]["open_orders"] == 2
        assert reads("primary", "unavailable") == before + 1
        assert "the standby failed" in caplog.text
        # For a few seconds the primary answers straight away, without trying the standby.
        again = await client.get(KPIS, headers=coordinator.headers)
        assert again.status_code == 200
        assert reads("primary", "unavailable") == before + 1


async def test_a_replica_further_behind_than_allowed_leaves_the_figures_to_the_primary(
    settings: Settings,
    build: Builder,
    replica_url: str,
    monkeypatch: pytest.MonkeyPatch,
    fresh_kpis: None,
) -> None:
    _, coordinator, _ = await _scene(build)
    # The replica reports itself as a standby whose last replayed commit is 5 minutes old.
    monkeypatch.setattr(
        standby,
        "STATE_SQL",
        standby.text(
            "SELECT true AS in_recovery, false AS receiving, false AS caught_up,"
            " now() AS now, now() - interval '5 minutes' AS replayed_at"
        ),
    )
    async with serving(settings, replica_url) as client:
        lagging, fresh = reads("primary", "lagging"), reads("standby", "fresh")
        answered = await client.get(KPIS, headers=coordinator.headers)
        assert answered.status_code == 200, answered.text
        kpis = answered.json()
        # The primary answered: as of now, not 5 minutes ago.
        as_of = datetime.fromisoformat(kpis["data_as_of"])
        assert datetime.now(UTC) - as_of < timedelta(minutes=1)
        assert (reads("primary", "lagging"), reads("standby", "fresh")) == (lagging + 1, fresh)
        gauge = REGISTRY.get_sample_value("naryad_standby_lag_seconds")
        assert gauge is not None
        assert gauge >= 300
