"""Helpers for outbox tests: a real webhook receiver on 127.0.0.1, settings, row readers.

The receiver is Python's ``http.server`` in a thread: it verifies each request's signature,
records the delivery id, and answers what the test scripts (200, 500, or stall).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import OutboxMessage
from service.notifications.channels import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    verify_signature,
)
from service.settings import NotificationSettings

ROOT = Path(__file__).resolve().parents[3]
SECRET = "test-webhook-secret-0123456789abcdef"

# Answer for the n-th request (0-based): an HTTP status, or None to stall until released.
Script = Callable[[int], int | None]


@dataclass(frozen=True)
class Hit:
    """One request the receiver got."""

    header_delivery_id: str
    delivery_id: str
    signature_ok: bool
    attempt: int
    channel: str
    to: str
    text: str
    at: float  # time.monotonic() on arrival


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 recording what arrives."""

    script: Script
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    first_hit: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    # Seconds each answer takes, so concurrent workers really overlap.
    delay: float = 0.0

    def delivery_ids(self) -> list[str]:
        """Delivery ids in arrival order."""
        with self.lock:
            return [h.delivery_id for h in self.hits]

    async def wait_for_hits(self, count: int, within: float = 10.0) -> None:
        """Until ``count`` requests arrived."""
        await eventually(lambda: len(self.delivery_ids()) >= count, within)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            payload = msgspec.json.decode(body)
            hit = Hit(
                header_delivery_id=self.headers.get(DELIVERY_HEADER, ""),
                delivery_id=payload["delivery_id"],
                signature_ok=verify_signature(SECRET, body, self.headers.get(SIGNATURE_HEADER)),
                attempt=payload["attempt"],
                channel=payload["channel"],
                to=payload["to"],
                text=payload["text"],
                at=time.monotonic(),
            )
            with receiver.lock:
                number = len(receiver.hits)
                receiver.hits.append(hit)
            receiver.first_hit.set()
            time.sleep(receiver.delay)
            status = receiver.script(number)
            if status is None:
                receiver.release.wait(timeout=30)
                status = 200
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the worker was killed while we stalled

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when many deliveries arrive at once,
    # and the client's SYN retry then adds a second to each: a gateway would not do that.
    request_queue_size = 128
    daemon_threads = True


def start_receiver(script: Script, delay: float = 0.0) -> tuple[ThreadingHTTPServer, Receiver]:
    """Serve a receiver in a daemon thread on a free port."""
    receiver = Receiver(script=script, delay=delay)
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, receiver


def always(status: int) -> Script:
    """Answer every request with ``status``."""
    return lambda _: status


def sequence(*statuses: int | None, then: int = 200) -> Script:
    """Answer the first requests with ``statuses`` (None stalls), then ``then``."""
    return lambda n: statuses[n] if n < len(statuses) else then


def notify_settings(url: str, **changes: Any) -> NotificationSettings:
    """Webhook settings with fast retries and short leases for tests."""
    values: dict[str, Any] = {
        "adapter": "webhook",
        "webhook_url": url,
        "webhook_secret": SECRET,
        "webhook_timeout_seconds": 2.0,
        "max_attempts": 5,
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "poll_seconds": 0.05,
        "lease_seconds": 5.0,
        "concurrency": 4,
        "retention_days": 0,
    }
    values.update(changes)
    return NotificationSettings(**values)


def worker_env(database_url: str, notifications: NotificationSettings) -> dict[str, str]:
    """Environment for a ``naryad worker`` subprocess."""
    return {
        **os.environ,
        "NARYAD_ENV": "test",
        "NARYAD_DATABASE_URL": database_url,
        "NARYAD_NOTIFY_ADAPTER": "webhook",
        "NARYAD_NOTIFY_WEBHOOK_URL": notifications.webhook_url or "",
        "NARYAD_NOTIFY_WEBHOOK_SECRET": notifications.webhook_secret or "",
        "NARYAD_NOTIFY_WEBHOOK_TIMEOUT_SECONDS": str(notifications.webhook_timeout_seconds),
        "NARYAD_NOTIFY_MAX_ATTEMPTS": str(notifications.max_attempts),
        "NARYAD_NOTIFY_BACKOFF_BASE_SECONDS": str(notifications.backoff_base_seconds),
        "NARYAD_NOTIFY_BACKOFF_MAX_SECONDS": str(notifications.backoff_max_seconds),
        "NARYAD_WORKER_POLL_SECONDS": str(notifications.poll_seconds),
        "NARYAD_WORKER_LEASE_SECONDS": str(notifications.lease_seconds),
        "NARYAD_WORKER_CONCURRENCY": str(notifications.concurrency),
    }


WORKER_COMMAND = [sys.executable, "-m", "service.worker"]


async def spawn_worker(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """Start ``naryad worker`` as a separate process; stdout and stderr together in stdout."""
    return await asyncio.create_subprocess_exec(
        *WORKER_COMMAND,
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    """Every outbox row, freshly read."""
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def row(sessions: async_sessionmaker[AsyncSession], row_id: uuid.UUID) -> OutboxMessage:
    """One outbox row, freshly read."""
    async with sessions() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    """Poll ``check`` (sync or async) until it is truthy; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)
