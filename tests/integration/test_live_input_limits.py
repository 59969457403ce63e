"""Input limits against the real server (uvicorn in its own process): memory, time, sockets."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from service.settings import load_settings
from service.storage import build_blob_store
from service.storage.keys import blob_key
from service.storage.local import LocalBlobStore
from tests.conftest import ServedApp, serve_process

MIB = 1024 * 1024
READ_TIMEOUT_SECONDS = 1.0


def memory_kib(server: ServedApp, field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of the server process, in KiB."""
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{server.pid}/status")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app with a short body read timeout, in one uvicorn process (no workers)."""
    timeout = {"NARYAD_BODY_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT_SECONDS)}
    with serve_process(database_url, tmp_path_factory, timeout) as served:
        yield served
    assert b"Traceback" not in served.log.read_bytes(), served.log.read_text()


def _stream(total: int, piece: int = MIB) -> Iterator[bytes]:
    block = b"x" * piece
    sent = 0
    while sent < total:
        yield block
        sent += piece


def _answer(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes the connection (or the deadline)."""
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def test_a_256_mib_body_leaves_memory_flat(server: ServedApp) -> None:
    # Warm the process up (imports, first request) so the baseline is honest.
    for _ in range(3):
        httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "a", "password": "b"})
    # Reset the peak (VmHWM) to the current RSS, so the peak after is this test's own.
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")
    rss_before = memory_kib(server, "VmRSS")
    peak_before = memory_kib(server, "VmHWM")
    assert peak_before - rss_before < 1024, "the peak was not reset"
    started = time.monotonic()
    for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        # Chunked: no Content-Length, so only counting the streamed bytes can stop it.
        try:
            response = httpx.post(
                f"{server.url}/api/v1/auth/login",
                content=_stream(256 * MIB),
                headers={"Content-Type": content_type},
                timeout=30,
            )
        except httpx.TransportError:
            pytest.fail("the server must answer 413, not drop the connection unanswered")
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    elapsed = time.monotonic() - started
    rss_after = memory_kib(server, "VmRSS")
    peak_after = memory_kib(server, "VmHWM")
    grown_mib = (peak_after - rss_before) / 1024
    print(
        f"server RSS before {rss_before / 1024:.1f} MiB (peak {peak_before / 1024:.1f}), "
        f"after three 256 MiB bodies {rss_after / 1024:.1f} MiB (peak {peak_after / 1024:.1f}); "
        f"grown {grown_mib:.1f} MiB in {elapsed:.1f} s"
    )
    assert grown_mib < 16
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_a_declared_length_over_the_limit_is_answered_at_once(server: ServedApp) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {50 * MIB}\r\n\r\n".encode()
            + b"{" * 1000
        )
        started = time.monotonic()
        raw = _answer(sock, started + 5)
    assert _status(raw) == 413, raw
    assert time.monotonic() - started < READ_TIMEOUT_SECONDS  # not waited for
    assert b"connection: close" in raw.lower()


def test_a_short_body_times_out_with_408_and_a_closed_connection(server: ServedApp) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500000\r\n\r\n" + b" " * 1000
        )
        started = time.monotonic()
        raw = _answer(sock, started + READ_TIMEOUT_SECONDS + 5)
        waited = time.monotonic() - started
    assert _status(raw) == 408, raw
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head
    assert b"connection: close" in head.lower()
    assert msgspec.json.decode(body)["status"] == 408
    # Answered after the timeout, and _answer returned because the server closed the socket.
    assert READ_TIMEOUT_SECONDS * 0.9 <= waited < READ_TIMEOUT_SECONDS + 3


def test_a_trickled_body_cannot_outlast_its_deadline(server: ServedApp) -> None:
    # One byte every half second never trips the idle timeout, but the whole body has a deadline.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n"
        )
        started = time.monotonic()
        raw = b""
        sock.settimeout(0.5)
        while time.monotonic() - started < 10 and not raw:
            try:
                sock.sendall(b" ")
                raw = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
    assert raw, "no answer"
    assert _status(raw) == 408, raw
    assert time.monotonic() - started < 5


def test_a_nul_split_across_tcp_writes_is_refused(server: ServedApp) -> None:
    body = b'{"username": "admin\\u0000", "password": "demo-password"}'
    at = body.index(b"\\u0000") + 2
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for piece in (body[:at], body[at:]):
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            time.sleep(0.2)  # separate reads on the server
        sock.sendall(b"0\r\n\r\n")
        raw = _answer(sock, time.monotonic() + 1)
    assert _status(raw) == 400, raw
    assert b"NUL characters are not allowed" in raw
    assert b"connection: close" in raw.lower()


def test_a_blob_upload_over_the_store_limit_is_refused_before_it_is_read(
    server: ServedApp,
) -> None:
    store = build_blob_store(
        load_settings({"NARYAD_BLOB_DIR": server.blob_dir, "NARYAD_PUBLIC_BASE_URL": server.url})
    )
    assert isinstance(store, LocalBlobStore)
    # A genuine grant for the largest photo, then 256 MiB claimed and streamed against it.
    upload = asyncio.run(
        store.presign_put(
            blob_key("photos", "2026", "12", f"{uuid.uuid4()}.jpg"),
            content_type="image/jpeg",
            size=store.max_object_size,
            sha256_hex="0" * 64,
        )
    )
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")
    rss_before = memory_kib(server, "VmRSS")
    started = time.monotonic()
    headers = {**upload.headers, "Content-Length": str(256 * MIB)}
    response = httpx.put(upload.url, content=_stream(256 * MIB), headers=headers, timeout=30)
    assert response.status_code == 413, response.text
    assert time.monotonic() - started < 5
    assert (memory_kib(server, "VmHWM") - rss_before) / 1024 < 16
    # A photo within the limit still streams in whole.
    photo = os.urandom(3 * MIB)
    key = blob_key("photos", "2026", "12", f"{uuid.uuid4()}.jpg")
    upload = asyncio.run(
        store.presign_put(
            key,
            content_type="image/jpeg",
            size=len(photo),
            sha256_hex=hashlib.sha256(photo).hexdigest(),
        )
    )
    response = httpx.put(upload.url, content=photo, headers=dict(upload.headers), timeout=30)
    assert response.status_code == 200, response.text
    assert asyncio.run(store.get(key)) == photo


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Bearer a\x00b",
        b"Authorization: Bearer \xff\xfe\xfd",
        b"Idempotency-Key: \xd0\x9a\xd0\xbb\xd1\x8e\xd1\x87",
        b"If-Match: \xff",
        b"Accept-Language: \xff\x00",
    ],
)
def test_odd_bytes_in_headers_are_never_a_server_error(server: ServedApp, header: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + header
            + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        raw = _answer(sock, time.monotonic() + 5)
    assert 400 <= _status(raw) < 500, raw
