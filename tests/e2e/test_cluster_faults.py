"""Faults injected into the `make cluster` topology: nothing lost, nothing done twice.

HAProxy in front of two API processes, two workers, PgBouncer in transaction mode and the S3
emulator, brought up by infra/cluster.sh (the script behind `make cluster`) on free ports. A
mixed workload goes through the proxy: bookings racing for the same technician and window,
sync pushes whose connection is dropped before the answer and which are retried with the same
Idempotency-Key, photo uploads and confirmations, a visit to a signed act, and orders whose
clocks breach while the escalation job is made due again and again. Midway one API process and
one worker are killed with SIGKILL and restarted. Then the database is checked, not the timing,
and the coordinators' KPIs, which the API processes read on the cluster's hot standby, must
equal the primary's figures once the standby has replayed the workload.

The cluster runs on a PostgreSQL of the test's own (a copy of the migrated template): the
standby `make cluster` starts copies its primary's whole server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service.common.actor import Role
from service.db.engine import make_sessionmaker
from service.db.models import Act, ActSignature
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.settings import Settings
from tests.cluster import ROOT, Cluster, free_ports, private_primary, running_cluster
from tests.conftest import _template_name
from tests.e2e.visit_flow import Phone, jpeg, local_path, signature_body
from tests.integration.builders import Area, Builder, Person
from tests.integration.mobile.conftest import log_in

pytestmark = [pytest.mark.asyncio, pytest.mark.cluster]

PHONES = 4
ROUNDS = 8
OPS_PER_PUSH = 3
BOOKING_ORDERS = 12
ESCALATING_ORDERS = 6
DRAIN_SECONDS = 90.0


# --- a webhook receiver standing in for the SMS/e-mail/push provider -----------------------------


@dataclass
class Receiver:
    """Records every delivery id it is sent; refuses the first attempt of the first message
    and of about every third after it."""

    seen: Counter[str] = field(default_factory=Counter)
    refused: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, delivery: str) -> int:
        """The HTTP status to answer for this delivery id."""
        with self.lock:
            self.seen[delivery] += 1
            first = self.seen[delivery] == 1
            chosen = int(hashlib.sha256(delivery.encode()).hexdigest(), 16) % 3 == 0
            if first and (chosen or not self.refused):
                self.refused.add(delivery)
                return 503  # retryable: the same message comes again with the same id
            return 200


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """The receiver on a free port, served from a thread."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.take(self.headers.get("X-Naryad-Delivery", "missing"))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    (port,) = free_ports(1)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{port}/hook"
    finally:
        server.shutdown()
        server.server_close()


# --- a client that behaves like a phone on a bad network -----------------------------------------


class RetryingTransport(httpx.AsyncBaseTransport):
    """Sends a request again, unchanged (same Idempotency-Key), while the proxy has no answer.

    502/503/504 come from HAProxy when the process holding the request died; a 409 with
    Retry-After means the first request with this key is still running on another process.
    """

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.retries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(120):
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError:
                self.retries += 1
                await asyncio.sleep(0.2)
                continue
            busy = response.status_code == 409 and "retry-after" in response.headers
            if response.status_code not in (502, 503, 504) and not busy:
                return response
            await response.aclose()
            self.retries += 1
            await asyncio.sleep(0.2)
        raise AssertionError(f"no answer for {request.method} {request.url}")

    async def aclose(self) -> None:
        await self.inner.aclose()


async def drop_after_sending(
    base_url: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    """Send a whole POST through the proxy, then hang up before any answer comes."""
    parts = urlsplit(base_url)
    _, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
    writer.write("\r\n".join(head).encode() + body)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


# --- the workload ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """What the workload did, for the assertions and the printed summary."""

    op_ids: list[str] = field(default_factory=list)
    pushes: int = 0
    dropped: int = 0
    resent_ops: int = 0
    replayed: int = 0  # answers to a retry that the dropped first request had already earned
    photos: list[str] = field(default_factory=list)
    booked: int = 0
    refused_bookings: int = 0


class S3Phone(Phone):
    """The visit-flow phone, uploading photo bytes straight to the presigned S3 URL."""

    def __init__(self, *args: Any, s3: httpx.AsyncClient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.s3 = s3

    async def put_photo(self, upload: dict[str, Any], data: bytes) -> None:
        put = await self.s3.put(upload["url"], content=data, headers=upload["headers"])
        assert put.status_code < 300, put.text


async def phone_session(
    client: httpx.AsyncClient,
    s3: httpx.AsyncClient,
    base_url: str,
    token: str,
    visit_id: str,
    figures: Figures,
    progress: asyncio.Queue[None],
) -> None:
    """Rounds of note pushes (some dropped, some re-sent) and photo uploads."""
    auth = {"Authorization": f"Bearer {token}"}
    # The phone's photo uploads (it answers no checklist step, so it needs no site).
    photos = S3Phone(client, token, visit_id, {}, s3=s3)
    previous: list[dict[str, Any]] = []
    clock = datetime.now(UTC) - timedelta(minutes=40)
    for round_no in range(ROUNDS):
        operations = []
        for n in range(OPS_PER_PUSH):
            clock += timedelta(seconds=20)
            operations.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "note",
                    "visit_id": visit_id,
                    "device_time": clock.isoformat(),
                    "payload": {"text": f"round {round_no} note {n}"},
                }
            )
        figures.op_ids += [o["id"] for o in operations]
        # Every fourth push also carries the last round's operations again (an app that never
        # saw their answers); they must be reported as duplicates, not applied again.
        resent = previous if round_no % 4 == 3 else []
        figures.resent_ops += len(resent)
        body = json.dumps({"operations": resent + operations}).encode()
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        if round_no % 2 == 0:
            await drop_after_sending(base_url, "/mobile/v1/sync/push", headers, body)
            figures.dropped += 1
        answer = await client.post(
            "/mobile/v1/sync/push",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        statuses = [r["status"] for r in answer.json()["results"]]
        assert set(statuses) <= {"applied", "duplicate"}, answer.text
        figures.pushes += 1
        figures.replayed += answer.headers.get("idempotent-replayed") == "true"
        previous = operations
        if round_no % 2 == 1:
            figures.photos.append(await upload_photo(photos, base_url, figures))
        progress.put_nowait(None)


async def upload_photo(phone: S3Phone, base_url: str, figures: Figures) -> str:
    """Start an upload, PUT the bytes to S3, confirm (the first confirmation's answer lost)."""
    data = jpeg()
    photo = await phone.start_photo(data)
    await phone.put_photo(photo["upload"], data)
    path = f"/mobile/v1/photos/{photo['id']}/confirm"
    key = str(uuid.uuid4())
    await drop_after_sending(base_url, path, {**phone.headers, "Idempotency-Key": key}, b"")
    figures.dropped += 1
    await phone.confirm_photo(photo["id"], key)
    return str(photo["id"])


async def book(
    client: httpx.AsyncClient,
    dispatcher: Person,
    order_id: uuid.UUID,
    technician_id: uuid.UUID,
    window: tuple[datetime, datetime],
    figures: Figures,
) -> None:
    """One booking attempt; a lost race is a 409 and books nothing."""
    answer = await client.post(
        f"/api/v1/work-orders/{order_id}/visits",
        json={
            "window": {"start": window[0].isoformat(), "end": window[1].isoformat()},
            "technician_id": str(technician_id),
            "agreed_by": {"name": "Нұрланова Әлия", "channel": "phone"},
        },
        headers=dispatcher.headers,
    )
    if answer.status_code == 201:
        figures.booked += 1
    else:
        assert answer.status_code in (409, 422), answer.text
        figures.refused_bookings += 1


async def sign_an_act(
    client: httpx.AsyncClient, s3: httpx.AsyncClient, token: str
) -> dict[str, Any]:
    """A whole visit through the proxy: checklist, photos, act, the customer's signature."""
    auth = {"Authorization": f"Bearer {token}"}
    day = await client.get("/mobile/v1/day", headers=auth)
    assert day.status_code == 200, day.text
    (visit,) = day.json()["visits"]
    phone = S3Phone(client, token, visit["visit_id"], visit["location"], s3=s3)
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("en_route", {"eta": phone.clock.isoformat()}))
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"])
    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts",
        json={},
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert started.status_code == 201, started.text
    link = started.json()
    path = local_path(link["signing_url"])
    signed = await client.post(path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "signed"
    return link  # type: ignore[no-any-return]


# --- arranging and checking in the database ------------------------------------------------------


async def sql(build: Builder, statement: str, **params: Any) -> list[Any]:
    """Rows of a statement run directly on PostgreSQL (not through PgBouncer)."""
    async with build.sessionmaker() as session:
        result = await session.execute(text(statement), params)
        rows = list(result.all()) if result.returns_rows else []
        await session.commit()
    return rows


async def breach_now(build: Builder, order_ids: list[uuid.UUID]) -> None:
    """Let the response clocks of these orders breach ten minutes ago; make the jobs due."""
    await sql(
        build,
        "UPDATE sla_clocks SET warning_at = now() - interval '20 minutes', "
        "due_at = now() - interval '10 minutes' "
        "WHERE work_order_id = ANY(:ids) AND target = 'response'",
        ids=order_ids,
    )
    await make_jobs_due(build)


async def make_jobs_due(build: Builder) -> None:
    """The clock and escalation jobs due now: every live worker races to claim them."""
    await sql(
        build,
        "UPDATE job_schedule SET next_run_at = now() "
        "WHERE name IN ('refresh_sla_clocks', 'escalate_clocks')",
    )


def window_at(area: Area, days: int, hour: int) -> tuple[datetime, datetime]:
    """A two-hour window ``days`` ahead at ``hour`` local time in the area's zone."""
    zone = ZoneInfo(area.territory.time_zone)
    day = (datetime.now(zone) + timedelta(days=days)).date()
    start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    return start, start + timedelta(hours=2)


async def end_quiet_hours(build: Builder, since: datetime) -> None:
    """Time passes: messages held for quiet hours (nights, weekends) or a long back-off are due.

    A customer's message refused by the receiver goes back behind quiet hours, so this runs
    again while the test waits for the outbox to drain.
    """
    await sql(
        build,
        "UPDATE outbox_messages SET not_before = least(not_before, now()), "
        "next_attempt_at = now() WHERE status = 'pending' AND created_at >= :since "
        "AND next_attempt_at > now() + interval '2 seconds'",
        since=since,
    )


async def wait_for(
    build: Builder,
    what: str,
    statement: str,
    nudge: Callable[[], Awaitable[None]] | None = None,
    **params: Any,
) -> None:
    """Poll the database until the statement returns true (the workers finish their queue)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        if nudge is not None:
            await nudge()
        if (await sql(build, statement, **params))[0][0]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not reached within {DRAIN_SECONDS:.0f} s: {what}")


# --- the KPIs on the standby ---------------------------------------------------------------------


@pytest.fixture
def replicated_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL of this test's own with a copy of the migrated template database."""
    template = make_url(database_url).set(database=_template_name(database_url))
    with private_primary(tmp_path / "pg", template.render_as_string(hide_password=False)) as url:
        yield url


@pytest.fixture
async def replicated_build(settings: Settings, replicated_database: str) -> AsyncIterator[Builder]:
    """A data builder writing to that PostgreSQL."""
    database = msgspec.structs.replace(settings.database, url=replicated_database)
    engine = create_async_engine(replicated_database, pool_size=2)
    yield Builder(
        sessionmaker=make_sessionmaker(engine),
        settings=msgspec.structs.replace(settings, database=database),
    )
    await engine.dispose()


async def replayed_kpis(cluster: Cluster, who: Person, since: datetime) -> dict[str, Any]:
    """The KPIs through the proxy, once their data is as of ``since`` or later."""
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as client:
        for _ in range(100):
            answered = await client.get("/api/v1/coordination/kpis", headers=who.headers)
            assert answered.status_code == 200, answered.text
            kpis: dict[str, Any] = answered.json()
            if datetime.fromisoformat(kpis["data_as_of"]) >= since:
                return kpis
            await asyncio.sleep(0.1)
    raise AssertionError(f"the KPIs' data never reached {since}")


async def standby_reads(cluster: Cluster) -> Counter[tuple[str, str]]:
    """naryad_standby_reads_total by (target, reason), summed over the API processes."""
    found: Counter[tuple[str, str]] = Counter()
    async with httpx.AsyncClient(timeout=10) as client:
        for port in cluster.api_ports:
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
            assert scraped.status_code == 200, scraped.text
            for family in text_string_to_metric_families(scraped.text):
                for sample in family.samples:
                    if sample.name == "naryad_standby_reads_total":
                        key = (sample.labels["target"], sample.labels["reason"])
                        found[key] += int(sample.value)
    return found


# --- the test -------------------------------------------------------------------------------------


async def test_killing_an_api_process_and_a_worker_loses_and_repeats_nothing(
    replicated_database: str,
    replicated_build: Builder,
    receiver: tuple[Receiver, str],
    tmp_path: Path,
) -> None:
    # A database of its own: the cluster's workers escalate and deliver whatever is due in the
    # whole database, and the assertions count what they did.
    database_url, build = replicated_database, replicated_build
    started_at = time.monotonic()
    hook, hook_url = receiver
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    technicians = [await build.technician_at(area, 0.5, 0.5) for _ in range(PHONES + 1)]
    visits = []
    for person in technicians:
        assert person.technician is not None
        order = await build.order(area, status="scheduled")
        start = datetime.now(UTC) - timedelta(minutes=30)
        visits.append(await build.visit(order, person.technician, start=start, hours=3))
    bookers = [await build.technician_at(area, 0.4, 0.4) for _ in range(2)]
    booking_orders = [await build.order(area) for _ in range(BOOKING_ORDERS)]
    since = (await sql(build, "SELECT now()"))[0][0]

    bucket = f"cluster-{uuid.uuid4().hex[:12]}"
    env = {
        "NARYAD_S3_BUCKET": bucket,
        "NARYAD_NOTIFY_ADAPTER": "webhook",
        "NARYAD_NOTIFY_WEBHOOK_URL": hook_url,
        "NARYAD_NOTIFY_WEBHOOK_SECRET": "cluster-fault-test-secret",
        "NARYAD_NOTIFY_WEBHOOK_TIMEOUT_SECONDS": "1",
        "NARYAD_NOTIFY_BACKOFF_BASE_SECONDS": "0.2",
        "NARYAD_NOTIFY_BACKOFF_MAX_SECONDS": "1",
        # A killed worker's claimed messages come back after the lease: short here.
        "NARYAD_WORKER_LEASE_SECONDS": "3",
        "NARYAD_WORKER_POLL_SECONDS": "0.2",
    }
    figures = Figures()
    transport = RetryingTransport()
    with running_cluster(
        tmp_path / "cluster", database_url, standby=True, extra_env=env
    ) as cluster:
        async with (
            httpx.AsyncClient(base_url=cluster.url, transport=transport, timeout=30) as client,
            httpx.AsyncClient(timeout=30) as s3,
        ):
            # The technicians log in through the proxy, as phones do.
            tokens = [(await log_in(client, person)).access_token for person in technicians]
            escalating = []
            for _ in range(ESCALATING_ORDERS):
                created = await client.post(
                    "/api/v1/work-orders",
                    json={
                        "type": "repair",
                        "priority": "high",
                        "customer_id": str(area.customer.id),
                        "site_id": str(area.site.id),
                    },
                    headers=dispatcher.headers,
                )
                assert created.status_code == 201, created.text
                escalating.append(uuid.UUID(created.json()["id"]))

            progress: asyncio.Queue[None] = asyncio.Queue()
            windows = [window_at(area, 2, hour) for hour in (10, 12, 14)]
            work = [
                asyncio.create_task(
                    phone_session(client, s3, cluster.url, token, str(visit.id), figures, progress)
                )
                for token, visit in zip(tokens[:PHONES], visits[:PHONES], strict=True)
            ]
            act = asyncio.create_task(sign_an_act(client, s3, tokens[PHONES]))
            # Four orders race for each (technician, window): one at most may win it.
            work += [
                asyncio.create_task(
                    book(
                        client,
                        dispatcher,
                        order.id,
                        bookers[n % 2].technician.id,  # type: ignore[union-attr]
                        windows[n % 3],
                        figures,
                    )
                )
                for n, order in enumerate(booking_orders)
            ]
            await breach_now(build, escalating[: ESCALATING_ORDERS // 2])

            # Midway through the phones' rounds: SIGKILL one API process and one worker.
            for _ in range(PHONES * ROUNDS // 3):
                await progress.get()
            killed = {
                name: await asyncio.to_thread(cluster.kill, name) for name in ("api1", "worker1")
            }
            await breach_now(build, escalating[ESCALATING_ORDERS // 2 :])
            await asyncio.to_thread(cluster.start)  # restarts exactly the two dead processes
            restarted = {name: cluster.pid(name) for name in killed}
            assert all(restarted[name] != killed[name] for name in killed)
            await make_jobs_due(build)

            await asyncio.gather(*work)
            link = await act

        await make_jobs_due(build)
        await wait_for(
            build,
            "every escalating order escalated",
            "SELECT count(DISTINCT work_order_id) = :n FROM escalations "
            "WHERE work_order_id = ANY(:ids) AND level = 'breach'",
            n=ESCALATING_ORDERS,
            ids=escalating,
        )
        await wait_for(
            build,
            "the outbox drained",
            "SELECT count(*) = 0 FROM outbox_messages "
            "WHERE created_at >= :since AND status IN ('pending', 'delivering')",
            since=since,
            nudge=lambda: end_quiet_hours(build, since),
        )
        await wait_for(
            build,
            "the act's PDF rendered",
            "SELECT pdf_sha256 IS NOT NULL FROM acts WHERE id = :id",
            id=uuid.UUID(link["act_id"]),
        )
        workload_seconds = time.monotonic() - started_at

        # The KPIs, read on the standby, once it has replayed everything written above.
        settled = (await sql(build, "SELECT now()"))[0][0]
        kpis = await replayed_kpis(cluster, coordinator, settled)
        reads = await standby_reads(cluster)
        age = (datetime.now(UTC) - datetime.fromisoformat(kpis["data_as_of"])).total_seconds()

    # The KPIs came from the standby (never the primary) and equal the primary's figures.
    assert reads[("standby", "fresh")] >= 1
    assert sum(n for (target, _), n in reads.items() if target == "primary") == 0, reads
    truth = await sql(
        build,
        "SELECT count(*), count(*) FILTER (WHERE control_deadline < :now) FROM work_orders "
        "WHERE territory_id = :territory AND status = ANY(:open)",
        now=datetime.fromisoformat(kpis["overdue"]["as_of"]),
        territory=area.territory.id,
        open=list(OPEN_ORDER_STATUSES),
    )
    assert (kpis["overdue"]["open_orders"], kpis["overdue"]["overdue"]) == tuple(truth[0])
    assert kpis["overdue"]["open_orders"] >= ESCALATING_ORDERS

    # 0 sync operations lost or applied twice: each op id once, applied, one note each.
    applied = await sql(
        build,
        "SELECT o.id::text, o.status, "
        "(SELECT count(*) FROM visit_records r WHERE r.operation_id = o.id) "
        "FROM sync_operations o WHERE o.id::text = ANY(:ids)",
        ids=figures.op_ids,
    )
    assert len(figures.op_ids) == PHONES * ROUNDS * OPS_PER_PUSH
    assert sorted(row[0] for row in applied) == sorted(figures.op_ids)
    assert {row[1] for row in applied} == {"applied"}
    assert {row[2] for row in applied} == {1}

    # Photos: every confirmed one stored once.
    photos = await sql(
        build, "SELECT status FROM photos WHERE id::text = ANY(:ids)", ids=figures.photos
    )
    assert len(photos) == len(figures.photos) == PHONES * ROUNDS // 2
    assert {row[0] for row in photos} == {"stored"}

    # 0 double bookings: no technician in two visits at once, no order booked twice.
    overlapping = await sql(
        build,
        "SELECT count(*) FROM visits a JOIN visits b ON a.technician_id = b.technician_id "
        "AND a.id < b.id AND a.agreed_window && b.agreed_window "
        "WHERE a.status <> 'cancelled' AND b.status <> 'cancelled' "
        "AND a.technician_id = ANY(:techs)",
        techs=[p.technician.id for p in bookers],  # type: ignore[union-attr]
    )
    assert overlapping[0][0] == 0
    per_order = await sql(
        build,
        "SELECT work_order_id, count(*) FROM visits WHERE work_order_id = ANY(:ids) "
        "AND status <> 'cancelled' GROUP BY work_order_id HAVING count(*) > 1",
        ids=[o.id for o in booking_orders],
    )
    assert per_order == []
    assert 1 <= figures.booked <= len(windows) * len(bookers)
    assert figures.booked + figures.refused_bookings == BOOKING_ORDERS

    # The act: signed once, its PDF rendered by a worker.
    async with build.sessionmaker() as session:
        signed_act = await session.get_one(Act, uuid.UUID(link["act_id"]))
        signatures = await build.count(ActSignature, ActSignature.act_id == signed_act.id)
    assert signed_act.status == "signed"
    assert signatures == 1

    # Each escalation raised once, and its messages queued once per recipient.
    raised = await sql(
        build,
        "SELECT work_order_id, target, level, count(*) FROM escalations "
        "WHERE work_order_id = ANY(:ids) GROUP BY 1, 2, 3",
        ids=escalating,
    )
    assert {row[0] for row in raised} == set(escalating)
    assert {row[3] for row in raised} == {1}
    repeated = await sql(
        build,
        "SELECT event, recipient_id, channel, context->>'work_order_number', count(*) "
        "FROM outbox_messages WHERE created_at >= :since AND event LIKE 'escalation.%' "
        "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1",
        since=since,
    )
    assert repeated == []

    # Every queued notification delivered at least once, always under its own delivery id.
    messages = await sql(
        build,
        "SELECT id::text, status, attempts FROM outbox_messages WHERE created_at >= :since",
        since=since,
    )
    escalation_messages = await sql(
        build,
        "SELECT count(*) FROM outbox_messages WHERE created_at >= :since "
        "AND event LIKE 'escalation.%'",
        since=since,
    )
    assert escalation_messages[0][0] >= ESCALATING_ORDERS
    assert {row[1] for row in messages} == {"delivered"}
    ours = {row[0] for row in messages}
    assert ours <= set(hook.seen)  # each reached the receiver under its own id
    refused_ours = hook.refused & ours
    assert refused_ours, "the receiver refused no first attempt"
    assert all(hook.seen[d] >= 2 for d in refused_ours)  # and came again under the same id
    attempts = {row[0]: row[2] for row in messages}
    assert all(attempts[d] >= 2 for d in refused_ours)

    # The audit chains verify.
    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service.cli", "audit", "verify"],
        check=False,
        env={**cluster.env, "NARYAD_DATABASE_URL": database_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    print(
        f"\ncluster fault test: {workload_seconds:.0f} s; {figures.pushes} pushes, "
        f"{len(figures.op_ids)} operations ({figures.resent_ops} re-sent), "
        f"{figures.dropped} connections dropped before the answer ({figures.replayed} pushes "
        f"answered by replay), {transport.retries} "
        f"retries after 5xx/409/reset; {len(figures.photos)} photos; bookings "
        f"{figures.booked} won, {figures.refused_bookings} refused; {len(messages)} "
        f"notifications delivered ({len(refused_ours)} after a refused first attempt); "
        f"{sum(row[3] for row in raised)} escalations; killed {killed}, restarted {restarted}; "
        f"KPIs on the standby ({reads[('standby', 'fresh')]} reads, their data {age:.1f} s old "
        f"when checked)"
    )
