"""Fixtures for the blob store contract: both stores, an S3 emulator, a signed-URL server.

The S3 store talks to a real S3 server over HTTP: ``NARYAD_S3_ENDPOINT_URL`` when set (``make
test`` starts moto there with ``infra/s3.sh``), otherwise a moto_server process started here
on a free port for the session. The local store's signed URLs are served by a tiny Litestar
app (just ``BlobController``) under uvicorn on a free port, so uploads are real HTTP too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.datastructures import State

from service.errors import EXCEPTION_HANDLERS
from service.storage import BlobStore, LocalBlobStore, S3BlobStore
from service.storage.controllers import BlobController

APP_BODY_LIMIT = 1024 * 1024  # the app's global request limit; uploads must get past it
SIGNING_KEY = "test-signing-key-" + "x" * 32


@dataclass(frozen=True)
class S3Emulator:
    """Where the S3 server is and what it enforces."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    is_moto: bool


@dataclass(frozen=True)
class Backend:
    """One store under test and what its server enforces on presigned requests."""

    name: str
    store: BlobStore
    # moto accepts any signature, expiry and x-amz-checksum-*; real S3 and our API do not.
    enforces_presigned_auth: bool
    enforces_upload_checksum: bool


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def s3_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Emulator]:
    """The S3 endpoint: NARYAD_S3_ENDPOINT_URL, or a moto_server started for the session."""
    access_key = os.environ.get("NARYAD_S3_ACCESS_KEY_ID", "testing")
    secret_key = os.environ.get("NARYAD_S3_SECRET_ACCESS_KEY", "testing")
    endpoint = os.environ.get("NARYAD_S3_ENDPOINT_URL")
    if endpoint:
        endpoint = endpoint.rstrip("/")
        yield S3Emulator(endpoint, access_key, secret_key, _answers(f"{endpoint}/moto-api/"))
        return
    moto_server = Path(sys.executable).with_name("moto_server")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{endpoint}/moto-api/"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto_server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield S3Emulator(endpoint, access_key, secret_key, True)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_s3_store(emulator: S3Emulator, bucket: str, **kwargs: object) -> S3BlobStore:
    """An S3 store on the emulator (the bucket is created on first use unless told not to)."""
    options: dict[str, object] = {"create_bucket": True, **kwargs}
    return S3BlobStore(
        bucket,
        endpoint_url=emulator.endpoint_url,
        access_key_id=emulator.access_key_id,
        secret_access_key=emulator.secret_access_key,
        **options,  # type: ignore[arg-type]
    )


def unique_bucket(label: str) -> str:
    """A bucket name no earlier run on a shared emulator has used."""
    return f"naryad-{label}-{secrets.token_hex(6)}"


@pytest.fixture(scope="session")
async def s3_store(s3_emulator: S3Emulator) -> AsyncIterator[S3BlobStore]:
    """An S3 store on a fresh bucket; its objects are removed at the end."""
    store = make_s3_store(s3_emulator, unique_bucket("test"))
    yield store
    with contextlib.suppress(Exception):
        for item in await store.list_keys():
            await store.delete(item.key)


@pytest.fixture(scope="session")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> LocalBlobStore:
    """A local store; its public base URL is the signed-URL server's, set by blob_server."""
    store = LocalBlobStore(
        tmp_path_factory.mktemp("blobs"),
        signing_key=SIGNING_KEY,
        public_base_url="http://127.0.0.1:1",
    )
    store.ensure_root()
    return store


def blob_app(store: BlobStore) -> Litestar:
    """The smallest app that serves signed blob URLs the way the real one does."""
    return Litestar(
        route_handlers=[BlobController],
        state=State({"blob_store": store}),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=APP_BODY_LIMIT,
    )


@pytest.fixture(scope="session")
def blob_server(local_store: LocalBlobStore) -> Iterator[str]:
    """BlobController under uvicorn on a free port, in its own thread and event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    local_store.public_base_url = base_url
    server = uvicorn.Server(
        uvicorn.Config(blob_app(local_store), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the signed-URL server did not start")
        time.sleep(0.02)
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client, as a phone would use."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each contract test runs once per store (the emulator starts only when needed)."""
    if request.param == "local":
        request.getfixturevalue("blob_server")
        return Backend(
            "local",
            request.getfixturevalue("local_store"),
            enforces_presigned_auth=True,
            enforces_upload_checksum=True,
        )
    emulator: S3Emulator = request.getfixturevalue("s3_emulator")
    real_s3 = not emulator.is_moto
    return Backend("s3", request.getfixturevalue("s3_store"), real_s3, real_s3)
