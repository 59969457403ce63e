"""Request ids, JSON logs without personal data, /metrics and a bounded /ready."""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from service.app import create_app
from service.common.actor import Role
from service.db.models import JobSchedule, OutboxMessage
from service.jobs import Job, JobRunner
from service.observability.logs import add_handler
from service.settings import Settings
from tests.conftest import problem
from tests.integration.builders import Builder

METRICS_TOKEN = "metrics-token-for-the-tests-0123456789"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Another app instance with these settings."""
    async with AsyncTestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _with_token(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        observability=msgspec.structs.replace(settings.observability, metrics_token=METRICS_TOKEN),
    )


# -- request ids --------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(client: Any) -> None:
    made = await client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert (await client.get("/health")).headers["x-request-id"] != made.headers["x-request-id"]
    kept = await client.get("/health", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    # Not a plain token (spaces, or too long to be an id): replaced, never echoed.
    for sent in ("a b", "x" * 129, "<script>"):
        answered = await client.get("/health", headers={"X-Request-ID": sent})
        assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["x-request-id"])
    # Problem responses and unknown paths too.
    refused = await client.get("/api/v1/work-orders", headers={"X-Request-ID": "trace-401"})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["x-request-id"] == "trace-401"
    missing = await client.get("/no/such/path", headers={"X-Request-ID": "trace-404"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "trace-404"


@contextmanager
def captured_logs(settings: Settings) -> Iterator[io.StringIO]:
    """What the production formatter writes while the block runs."""
    stream = io.StringIO()
    json_settings = msgspec.structs.replace(settings.observability, log_format="json")
    handler = add_handler(stream, json_settings)
    try:
        yield stream
    finally:
        import logging

        logging.getLogger().removeHandler(handler)


async def test_logs_are_json_with_the_request_id_and_no_names_or_phones(
    client: Any, build: Builder, settings: Settings
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    name, phone = "Жанибекова Айгерим", "+77051234599"
    with captured_logs(settings) as stream:
        created = await client.post(
            "/api/v1/customers",
            json={
                "territory_id": str(area.territory.id),
                "full_name": name,
                "phones": [phone],
                "preferred_language": "kk",
            },
            headers={**dispatcher.headers, "X-Request-ID": "create-customer-1"},
        )
        assert created.status_code == 201, created.text
        refused = await client.post(
            "/api/v1/customers",
            json={"territory_id": str(area.territory.id), "full_name": name, "phones": ["bad"]},
            headers={**dispatcher.headers, "X-Request-ID": "create-customer-2"},
        )
        assert refused.status_code in (400, 422)
        failed_login = await client.post(
            "/api/v1/auth/login", json={"username": name, "password": phone}
        )
        assert failed_login.status_code == 401
        # A careless log call with a phone number in it is masked all the same.
        import logging

        logging.getLogger("naryad.test").warning("could not reach %s", "+7 705 123 45 99")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    by_id = {line["request_id"]: line for line in requests}
    assert by_id["create-customer-1"]["status"] == 201
    assert by_id["create-customer-1"]["route"] == "/api/v1/customers"
    assert by_id["create-customer-2"]["status"] in (400, 422)
    assert all({"timestamp", "level", "logger"} <= line.keys() for line in lines)
    text = stream.getvalue()
    for secret in (name, phone, phone[2:], "705 123 45 99"):
        assert secret not in text, secret
    assert "could not reach [phone]" in text


async def test_the_app_keeps_its_own_log_handler(settings: Settings) -> None:
    """Litestar's default logging config would swap the root handler for its queue handler
    (plain text, nothing masked); the app leaves configure_logging's handler in place."""
    import logging

    from service.observability.logs import _NaryadHandler

    before = set(logging.getLogger().handlers)
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).status_code == 200
        handlers = logging.getLogger().handlers
        ours = [h for h in handlers if isinstance(h, _NaryadHandler)]
        assert len(ours) == 1
        # The app added no handler of Litestar's (other tests' apps may have left one).
        added = [h for h in handlers if h not in before]
        assert not [h for h in added if type(h).__module__.startswith("litestar")], added
        stream = io.StringIO()
        ours[0].setStream(stream)
        try:
            logging.getLogger("naryad.test").warning("could not reach %s", "+7 705 123 45 99")
        finally:
            ours[0].setStream(sys.stderr)
        assert "could not reach [phone]" in stream.getvalue()


# -- /metrics -------------------------------------------------------------------------------


def _families(body: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(body)}


def _value(family: Any, suffix: str = "", **labels: str) -> float:
    for sample in family.samples:
        if sample.name == family.name + suffix and labels.items() <= sample.labels.items():
            return float(sample.value)
    raise AssertionError(f"no {family.name}{suffix} {labels}")


async def test_metrics_need_the_token(settings: Settings) -> None:
    async with serving(_with_token(settings)) as client:
        anonymous = await client.get("/metrics")
        assert anonymous.status_code == 401
        assert problem(anonymous)["status"] == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        staff_token = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}x"}
        )
        assert staff_token.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert ok.status_code == 200
    # Without a token only the loopback address may scrape (the test client is not one).
    async with serving(settings) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_count_requests_by_route_and_read_state_from_the_database(
    settings: Settings, build: Builder
) -> None:
    async with serving(_with_token(settings)) as client:
        for _ in range(3):
            assert (await client.get("/health")).status_code == 200
        order_id = uuid.uuid4()
        await client.get(f"/api/v1/work-orders/{order_id}")  # 401, by template not by id
        name = f"test_metrics_{uuid.uuid4().hex[:8]}"

        async def one(_session: Any, _store: Any) -> int:
            return 1

        await JobRunner(
            build.sessionmaker,
            None,
            jobs=[Job(name, __import__("datetime").timedelta(hours=1), one)],
        ).run_due()  # type: ignore[arg-type]
        response = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert str(order_id) not in body
    families = _families(body)
    requests = families["naryad_http_requests"]
    assert _value(requests, "_total", path="/health", method="GET", status_code="200") >= 3
    assert _value(requests, "_total", path="/api/v1/work-orders/{order_id}", status_code="401") >= 1
    latency = families["naryad_http_request_duration_seconds"]
    assert _value(latency, "_count", path="/health") >= 3
    assert _value(latency, "_bucket", path="/health", le="+Inf") >= 3

    async with build.sessionmaker() as session:
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
        row = await session.get_one(JobSchedule, name)
    outbox = families["naryad_outbox_messages"]
    for status in ("pending", "delivering", "delivered", "dead"):
        assert _value(outbox, status=status) == counts.get(status, 0)
    assert _value(families["naryad_outbox_dead_messages"]) == counts.get("dead", 0)
    assert "naryad_outbox_oldest_pending_age_seconds" in families
    assert "naryad_sla_open_breaches" in families
    assert _value(families["naryad_job_runs"], "_total", job=name) == 1
    assert _value(families["naryad_job_last_success_timestamp_seconds"], job=name) == pytest.approx(
        row.last_success_at.timestamp()
    )  # type: ignore[union-attr]


async def test_promtool_accepts_the_scrape(settings: Settings) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: `bash infra/system-deps.sh test` installs prometheus"
    async with serving(_with_token(settings)) as client:
        await client.get("/health")
        body = (
            await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        ).content
    assert b"naryad_outbox_messages" in body
    checker = await asyncio.create_subprocess_exec(
        promtool,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await checker.communicate(body)
    # Exit 0 and nothing said: no format error and no lint complaint about names or help.
    assert checker.returncode == 0, out.decode() + err.decode()
    assert (out + err).strip() == b"", out.decode() + err.decode()


# -- /ready ---------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung dependency)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def _database_at(settings: Settings, port: int) -> Settings:
    url = re.sub(r"@[^/]+/", f"@127.0.0.1:{port}/", settings.database.url)
    return msgspec.structs.replace(
        settings, database=msgspec.structs.replace(settings.database, url=url)
    )


def _s3_at(settings: Settings, port: int) -> Settings:
    storage = msgspec.structs.replace(
        settings.storage,
        backend="s3",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        s3_bucket="naryad-ready",
    )
    return msgspec.structs.replace(settings, storage=storage)


async def _timed_ready(settings: Settings) -> tuple[int, dict[str, Any], float]:
    async with serving(settings) as client:
        started = time.monotonic()
        response = await client.get("/ready")
        return response.status_code, response.json(), time.monotonic() - started


async def test_ready_answers_503_when_the_database_is_down_or_hangs(settings: Settings) -> None:
    status, body, elapsed = await _timed_ready(_database_at(settings, _closed_port()))
    assert (status, body["detail"]) == (503, "database: unavailable, storage: ok")
    with silent_server() as port:
        status, body, elapsed = await _timed_ready(_database_at(settings, port))
    assert (status, body["detail"]) == (503, "database: unavailable, storage: ok")
    assert elapsed < 2.5


async def test_ready_answers_503_when_s3_is_unreachable_or_hangs(settings: Settings) -> None:
    status, body, elapsed = await _timed_ready(_s3_at(settings, _closed_port()))
    assert (status, body["detail"]) == (503, "database: ok, storage: unavailable")
    assert elapsed < 2.5
    with silent_server() as port:
        status, body, elapsed = await _timed_ready(_s3_at(settings, port))
    assert (status, body["detail"]) == (503, "database: ok, storage: unavailable")
    assert elapsed < 2.5


async def test_ready_is_200_with_the_s3_emulator(settings: Settings) -> None:
    import os

    endpoint = os.environ.get("NARYAD_S3_ENDPOINT_URL")
    if not endpoint:
        pytest.fail("NARYAD_S3_ENDPOINT_URL must name the S3 emulator (make test sets it)")
    storage = msgspec.structs.replace(
        settings.storage,
        backend="s3",
        s3_endpoint_url=endpoint,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        s3_bucket=f"ready-{uuid.uuid4().hex[:8]}",
        s3_create_bucket=True,
    )
    async with serving(msgspec.structs.replace(settings, storage=storage)) as client:
        # The first probe also builds the S3 clients and the bucket (the process warms up).
        await client.get("/ready")
        started = time.monotonic()
        response = await client.get("/ready")
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok"}
    assert elapsed < 2.0


# -- traces -----------------------------------------------------------------------------------


@contextmanager
def otlp_collector() -> Iterator[tuple[str, list[bytes]]]:
    """A local OTLP/HTTP endpoint that keeps every export it receives."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


async def test_requests_and_sql_are_traced_when_an_otlp_endpoint_is_set(
    settings: Settings,
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    with otlp_collector() as (endpoint, received):
        traced = msgspec.structs.replace(
            settings,
            observability=msgspec.structs.replace(settings.observability, otel_endpoint=endpoint),
        )
        async with serving(traced) as client:
            assert (await client.get("/ready")).status_code == 200
        # The app's shutdown flushed the batch to the collector.
        spans = []
        for body in received:
            export = ExportTraceServiceRequest.FromString(body)
            for resource in export.resource_spans:
                for scoped in resource.scope_spans:
                    spans += list(scoped.spans)
    names = [span.name for span in spans]
    assert any(name.startswith("GET /ready") for name in names), names
    assert any("SELECT" in name or name.startswith("connect") for name in names), names
    request_span = next(s for s in spans if s.name.startswith("GET /ready"))
    sql_spans = [s for s in spans if "SELECT" in s.name]
    assert all(s.trace_id == request_span.trace_id for s in sql_spans)


async def test_no_traces_without_the_setting(settings: Settings) -> None:
    from service.observability.tracing import tracing_for

    assert settings.observability.otel_endpoint is None
    assert tracing_for(settings.observability) is None
