"""Idempotency-Key: exact, decodable replays, one winner under concurrency, settled with the work.

The concurrency and connection-dropping tests run against the real uvicorn server
(``live_server``); the rest use the in-process client on the same PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Request, Response, Router, post
from litestar.di import Provide
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text

from mobile_api.deps import Technician, provide_technician
from mobile_api.idempotency import IdempotencyMiddleware, lock_key, request_fingerprint
from service.common.actor import Actor
from service.common.params import DbSession
from service.db.base import utcnow
from service.db.models import IdempotencyKey, Photo, SyncOperation, VisitRecord
from service.errors import Conflict
from service.settings import Settings
from tests.conftest import ROOT, problem
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, op

pytestmark = pytest.mark.asyncio

GZIP = {"Accept-Encoding": "gzip"}


def _notes(field: Field, count: int, label: str) -> dict[str, Any]:
    """A push whose answer is well over the 2 KiB compression threshold."""
    return {
        "operations": [
            op(field.visit.id, "note", {"text": f"{label} {n}"}, minutes=n / 100)
            for n in range(count)
        ]
    }


def _photo(field: Field, tag: str) -> dict[str, Any]:
    data = tag.encode() * 100
    return {
        "visit_id": str(field.visit.id),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_type": "image/jpeg",
    }


async def _stored(build: Builder, field: Field, key: str) -> IdempotencyKey | None:
    async with build.sessionmaker() as session:
        return await session.get(IdempotencyKey, (field.technician.user.id, key))


async def test_a_gzip_answer_replays_decodably_for_any_accept_encoding(
    client: Any, build: Builder, field: Field
) -> None:
    body = _notes(field, 40, "Сжатие")
    key = str(uuid.uuid4())
    headers = {**field.phone.headers(key), **GZIP}
    first = await client.post("/mobile/v1/sync/push", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers["content-encoding"] == "gzip"  # the case that broke replays
    assert len(first.content) >= 2048  # decoded by httpx: the threshold was crossed
    assert "idempotent-replayed" not in first.headers

    replay = await client.post("/mobile/v1/sync/push", json=body, headers=headers)
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-encoding"] == "gzip"
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert "accept-encoding" in replay.headers["vary"].lower()
    assert replay.json() == first.json()
    assert [r["status"] for r in replay.json()["results"]] == ["applied"] * 40

    # A retry through a stack that does not ask for gzip gets the same JSON, uncompressed.
    plain = await client.post(
        "/mobile/v1/sync/push",
        json=body,
        headers={**field.phone.headers(key), "Accept-Encoding": "identity"},
    )
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert plain.headers["idempotent-replayed"] == "true"
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert msgspec.json.decode(plain.content) == first.json()

    # Stored once, uncompressed, with its representation headers and not its coding.
    stored = await _stored(build, field, key)
    assert stored is not None
    assert msgspec.json.decode(stored.response_body) == first.json()
    names = [name for name, _ in stored.response_headers]
    assert "content-type" in names
    assert "content-encoding" not in names
    assert "content-length" not in names
    assert await build.count(SyncOperation, SyncOperation.visit_id == field.visit.id) == 40


async def test_a_raw_gzip_replay_is_what_the_client_would_decode(client: Any, field: Field) -> None:
    """Below httpx's decoding: the bytes on the wire are gzip of the first answer's JSON."""
    body = _notes(field, 40, "Байты")
    key = str(uuid.uuid4())
    headers = {**field.phone.headers(key), **GZIP}
    first = await client.post("/mobile/v1/sync/push", json=body, headers=headers)
    request = client.build_request("POST", "/mobile/v1/sync/push", json=body, headers=headers)
    replay = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in replay.aiter_raw()])
    await replay.aclose()
    assert replay.headers["content-encoding"] == "gzip"
    assert int(replay.headers["content-length"]) == len(raw)
    assert msgspec.json.decode(gzip.decompress(raw)) == first.json()


async def test_same_key_other_payload_is_422_and_writes_nothing(
    client: Any, build: Builder, field: Field
) -> None:
    key = str(uuid.uuid4())
    first = await client.post(
        "/mobile/v1/photos/uploads", json=_photo(field, "a"), headers=field.phone.headers(key)
    )
    assert first.status_code == 201, first.text
    other = await client.post(
        "/mobile/v1/photos/uploads", json=_photo(field, "b"), headers=field.phone.headers(key)
    )
    assert other.status_code == 422
    problem(other)
    assert await build.count(Photo, Photo.visit_id == field.visit.id) == 1
    stored = await _stored(build, field, key)
    assert stored is not None
    assert msgspec.json.decode(stored.response_body) == first.json()


async def test_a_returned_rejection_is_kept_with_its_work_and_replayed(
    app: Any, client: Any, build: Builder, field: Field
) -> None:
    declared = b"\xff\xd8\xff" + os.urandom(2000)
    photo = (
        await client.post(
            "/mobile/v1/photos/uploads",
            json={
                "visit_id": str(field.visit.id),
                "sha256": hashlib.sha256(declared).hexdigest(),
                "size": len(declared),
                "content_type": "image/jpeg",
            },
            headers=field.phone.headers(),
        )
    ).json()
    async with build.sessionmaker() as session:
        object_key = (await session.get_one(Photo, photo["id"])).object_key
    await app.state.blob_store.put(
        object_key, b"\xff\xd8\xff" + os.urandom(2000), content_type="image/jpeg"
    )
    key = str(uuid.uuid4())
    path = f"/mobile/v1/photos/{photo['id']}/confirm"
    refused = await client.post(path, headers=field.phone.headers(key))
    assert refused.status_code == 422
    replay = await client.post(path, headers=field.phone.headers(key))
    assert replay.status_code == 422
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == refused.content
    assert replay.headers["content-type"].startswith("application/problem+json")


# Handler failures: a test route under the same middleware, on its own app instance -----------

FAILURES_LEFT: dict[str, int] = {}


class NoteIn(msgspec.Struct):
    """A note for the failure-injecting route."""

    visit_id: uuid.UUID
    text: str
    mode: str  # raise | conflict | return-503 | lost-race


@post("/note", status_code=201, include_in_schema=False)
async def flaky_note(
    data: JSONBody[NoteIn],
    db_session: DbSession,
    technician: Technician,
    request: Request[Any, Any, Any],
) -> Response[dict[str, Any]]:
    """Records a note (the work), then fails as told while failures are left for its text."""
    if data.mode == "lost-race":
        await _commit_rival_answer(request, technician)
    db_session.add(
        VisitRecord(
            visit_id=data.visit_id, kind="note", data={"text": data.text}, device_time=utcnow()
        )
    )
    await db_session.flush()
    if FAILURES_LEFT.get(data.text, 0) > 0:
        FAILURES_LEFT[data.text] -= 1
        if data.mode == "raise":
            raise RuntimeError("injected handler failure")
        if data.mode == "conflict":
            raise Conflict("injected domain error")
        return Response({"unavailable": True}, status_code=503)
    return Response({"recorded": data.text}, status_code=201)


RIVAL_ANSWER = {"rival": True}


async def _commit_rival_answer(request: Request[Any, Any, Any], technician: Actor) -> None:
    """Another request committed an answer for this key meanwhile (as if past the lock)."""
    async with request.app.state.sessionmaker() as session:
        session.add(
            IdempotencyKey(
                user_id=technician.user_id,
                key=request.headers["idempotency-key"],
                method="POST",
                path=request.url.path,
                request_sha256=request_fingerprint("POST", request.url.path, await request.body()),
                response_status=201,
                response_headers=[["content-type", "application/json"]],
                response_body=msgspec.json.encode(RIVAL_ANSWER),
                created_at=utcnow(),
            )
        )
        await session.commit()


@pytest.fixture
async def faulty_client(settings: Settings) -> AsyncIterator[Any]:
    """The app with one extra mobile route that can fail after doing its work."""
    from service.app import create_app

    app = create_app(settings)
    app.register(
        Router(
            path="/mobile/v1/faults",
            route_handlers=[flaky_note],
            dependencies={"technician": Provide(provide_technician)},
            middleware=[IdempotencyMiddleware()],
        )
    )
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("mode", "status"), [("raise", 500), ("conflict", 409), ("return-503", 503)]
)
async def test_a_failed_request_releases_its_key_and_keeps_no_work(
    faulty_client: Any, build: Builder, field: Field, mode: str, status: int
) -> None:
    text = f"fault {mode} {uuid.uuid4()}"
    FAILURES_LEFT[text] = 1
    body = {"visit_id": str(field.visit.id), "text": text, "mode": mode}
    key = str(uuid.uuid4())
    notes = (VisitRecord.visit_id == field.visit.id, VisitRecord.data["text"].astext == text)

    failed = await faulty_client.post(
        "/mobile/v1/faults/note", json=body, headers=field.phone.headers(key)
    )
    assert failed.status_code == status, failed.text
    assert "idempotent-replayed" not in failed.headers
    assert await build.count(VisitRecord, *notes) == 0  # the work was rolled back
    assert await _stored(build, field, key) is None  # and the answer not stored

    retried = await faulty_client.post(
        "/mobile/v1/faults/note", json=body, headers=field.phone.headers(key)
    )
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers  # processed, not replayed
    again = await faulty_client.post(
        "/mobile/v1/faults/note", json=body, headers=field.phone.headers(key)
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == retried.json() == {"recorded": text}
    assert await build.count(VisitRecord, *notes) == 1


async def test_losing_a_race_at_commit_undoes_the_work_and_replays_the_winner(
    faulty_client: Any, build: Builder, field: Field
) -> None:
    text = f"race {uuid.uuid4()}"
    body = {"visit_id": str(field.visit.id), "text": text, "mode": "lost-race"}
    key = str(uuid.uuid4())
    answer = await faulty_client.post(
        "/mobile/v1/faults/note", json=body, headers=field.phone.headers(key)
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["idempotent-replayed"] == "true"
    assert answer.json() == RIVAL_ANSWER
    notes = (VisitRecord.visit_id == field.visit.id, VisitRecord.data["text"].astext == text)
    assert await build.count(VisitRecord, *notes) == 0


async def test_a_real_handler_error_stores_nothing(
    client: Any, build: Builder, field: Field
) -> None:
    key = str(uuid.uuid4())
    missing = await client.post(
        f"/mobile/v1/photos/{uuid.uuid4()}/confirm", headers=field.phone.headers(key)
    )
    assert missing.status_code == 404
    problem(missing)
    assert await _stored(build, field, key) is None


# Against the real server ------------------------------------------------------------------------


@pytest.mark.parametrize("contenders", [4, 40])
async def test_concurrent_first_uses_of_one_key_have_one_winner(
    live_server: str, build: Builder, field: Field, contenders: int
) -> None:
    key = str(uuid.uuid4())
    body = _photo(field, "race")
    limits = httpx.Limits(max_connections=contenders, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=live_server, timeout=60, limits=limits) as http:
        await http.get("/health")  # the server is warm before the race starts
        responses = await asyncio.gather(
            *(
                http.post("/mobile/v1/photos/uploads", json=body, headers=field.phone.headers(key))
                for _ in range(contenders)
            )
        )
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), statuses
    winners = [
        r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers
    ]
    replays = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    busy = [r for r in responses if r.status_code == 409]
    assert len(winners) == 1, statuses
    assert len(winners) + len(replays) + len(busy) == contenders, statuses
    for response in busy:
        assert response.headers["retry-after"] == "1"
        problem(response)
    assert all(r.json() == winners[0].json() for r in replays)
    assert await build.count(Photo, Photo.visit_id == field.visit.id) == 1
    print(f"{contenders} contenders: 1 winner, {len(busy)} x 409, {len(replays)} replays")


async def test_a_resend_right_after_the_answer_is_a_replay(live_server: str, field: Field) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        for n in range(25):
            key = str(uuid.uuid4())
            body = _photo(field, f"resend {n}")
            first = await http.post(
                "/mobile/v1/photos/uploads", json=body, headers=field.phone.headers(key)
            )
            assert first.status_code == 201, first.text
            resend = await http.post(
                "/mobile/v1/photos/uploads", json=body, headers=field.phone.headers(key)
            )
            assert resend.status_code == 201, (n, resend.text)
            assert resend.headers["idempotent-replayed"] == "true"
            assert resend.json() == first.json()


@dataclass
class CuttingProxy:
    """A TCP proxy that drops a share of connections half-way through the response."""

    upstream_port: int
    cut_share: float
    rng: random.Random = dataclass_field(default_factory=lambda: random.Random(11))
    cuts: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        cut = self.rng.random() < self.cut_share
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def forward_request() -> None:
            try:
                while data := await client_r.read(65536):
                    up_w.write(data)
                    await up_w.drain()
            except ConnectionError:
                pass
            finally:
                up_w.close()

        requests = asyncio.create_task(forward_request())
        try:
            if cut:
                # Wait for the head and some of the body, pass on half of it, hang up.
                received = b""
                while (
                    b"\r\n\r\n" not in received or len(received) < received.index(b"\r\n\r\n") + 64
                ):
                    chunk = await up_r.read(65536)
                    if not chunk:
                        break
                    received += chunk
                head_end = received.find(b"\r\n\r\n") + 4
                client_w.write(received[: head_end + (len(received) - head_end) // 2])
                await client_w.drain()
                self.cuts += 1
            else:
                while data := await up_r.read(65536):
                    client_w.write(data)
                    await client_w.drain()
        except ConnectionError:
            pass
        finally:
            requests.cancel()
            up_w.close()
            client_w.close()


async def test_replays_through_a_connection_dropping_proxy_are_all_readable(
    live_server: str, build: Builder, field: Field
) -> None:
    proxy = CuttingProxy(upstream_port=int(live_server.rsplit(":", 1)[1]), cut_share=0.5)
    await proxy.start()
    figures = {"sent": 0, "cut": 0, "busy": 0, "replayed": 0, "unreadable": 0}
    answers: dict[str, list[dict[str, Any]]] = {}
    pushes = {str(uuid.uuid4()): _notes(field, 40, f"Обрыв {n}") for n in range(30)}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in pushes:
        queue.put_nowait(key)
    # A new connection per attempt, as a phone whose connection dropped would open.
    limits = httpx.Limits(max_keepalive_connections=0)

    async def phone() -> None:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{proxy.port}", timeout=30, limits=limits
        ) as http:
            while not queue.empty():
                key = queue.get_nowait()
                for _ in range(50):
                    figures["sent"] += 1
                    try:
                        response = await http.post(
                            "/mobile/v1/sync/push",
                            json=pushes[key],
                            headers={**field.phone.headers(key), **GZIP},
                        )
                    except httpx.DecodingError:
                        figures["unreadable"] += 1
                        break
                    except httpx.TransportError:
                        figures["cut"] += 1
                        continue
                    if response.status_code == 409:
                        figures["busy"] += 1
                        await asyncio.sleep(float(response.headers["retry-after"]) / 10)
                        continue
                    assert response.status_code == 200, response.text
                    try:
                        answers[key] = response.json()["results"]
                    except ValueError:
                        figures["unreadable"] += 1
                        break
                    if response.headers.get("idempotent-replayed") == "true":
                        figures["replayed"] += 1
                    break

    try:
        await asyncio.gather(*(phone() for _ in range(6)))
    finally:
        await proxy.stop()
    print(f"connection-dropping proxy: {figures}")
    assert figures["unreadable"] == 0, figures
    assert figures["cut"] == proxy.cuts > 0
    assert figures["replayed"] > 0
    assert set(answers) == set(pushes)
    for key, results in answers.items():
        sent_ids = [o["id"] for o in pushes[key]["operations"]]
        assert [r["id"] for r in results] == sent_ids
        # "applied", never "duplicate": every answer is the first run's, replayed whole.
        assert {r["status"] for r in results} == {"applied"}, key
    total = 30 * 40
    assert await build.count(SyncOperation, SyncOperation.visit_id == field.visit.id) == total
    assert await build.count(VisitRecord, VisitRecord.visit_id == field.visit.id) == total


def _serve(database_url: str, blob_dir: str, log: Any) -> tuple[subprocess.Popen[bytes], str]:
    """A server process of our own, to be killed (the session's live server must live on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **os.environ,
        "NARYAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "NARYAD_ENV": "test",
        "NARYAD_DATABASE_URL": database_url,
        "NARYAD_BLOB_DIR": blob_dir,
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


async def _key_locked(build: Builder, user_id: uuid.UUID, key: str) -> bool:
    namespace, digest = lock_key(user_id, key)
    async with build.sessionmaker() as session:
        held = await session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid::int = :namespace AND objid::bigint = :objid AND objsubid = 2"
            ),
            {"namespace": namespace, "objid": digest & 0xFFFFFFFF},
        )
    return bool(held)


async def test_a_process_killed_mid_request_leaves_the_key_free_for_a_retry(
    client: Any,
    build: Builder,
    field: Field,
    database_url: str,
    tmp_path: Path,
) -> None:
    operation = op(field.visit.id, "note", {"text": "Убит посреди запроса"})
    body = {"operations": [operation]}
    operation_id = uuid.UUID(operation["id"])
    key = str(uuid.uuid4())
    user_id = field.technician.user.id
    server, url = _serve(database_url, str(tmp_path), (tmp_path / "server.log").open("wb"))
    try:
        # The test holds the operation's own lock, so the server's push waits inside its
        # transaction, holding the Idempotency-Key, until the process is killed.
        async with build.sessionmaker() as blocker:
            operation_lock = int.from_bytes(operation_id.bytes[:8], "big", signed=True)
            await blocker.execute(select(func.pg_advisory_xact_lock(operation_lock)))
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                pending = asyncio.create_task(
                    http.post("/mobile/v1/sync/push", json=body, headers=field.phone.headers(key))
                )
                for _ in range(200):
                    if await _key_locked(build, user_id, key):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the server never claimed the key")
                busy = await client.post(
                    "/mobile/v1/sync/push", json=body, headers=field.phone.headers(key)
                )
                assert busy.status_code == 409  # in progress, not a 500, not run twice
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=10)
                with pytest.raises(httpx.TransportError):
                    await pending
        # The dead process's transaction ends with its connection: the key is free again.
        for _ in range(200):
            if not await _key_locked(build, user_id, key):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the killed request still holds its key")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    retry = await client.post("/mobile/v1/sync/push", json=body, headers=field.phone.headers(key))
    assert retry.status_code == 200, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert retry.json()["results"][0]["status"] == "applied"
    assert await build.count(SyncOperation, SyncOperation.id == operation_id) == 1
    assert await build.count(VisitRecord, VisitRecord.operation_id == operation_id) == 1
