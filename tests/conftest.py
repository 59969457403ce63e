"""Test settings: a fresh test database migrated with Alembic, the app, and a data builder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from service.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _test_database_url() -> str:
    explicit = os.environ.get("NARYAD_TEST_DATABASE_URL")
    if explicit:
        return explicit
    url = make_url(load_settings().database.url)
    return url.set(database=f"{url.database}_test").render_as_string(hide_password=False)


async def _recreate_database(url: str) -> None:
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url() -> str:
    """A new, empty test database built by `naryad db upgrade` (Alembic, not create_all)."""
    import asyncio

    url = _test_database_url()
    asyncio.run(_recreate_database(url))
    env = {**os.environ, "NARYAD_DATABASE_URL": url}
    for command in (["db", "upgrade"], ["checklists", "publish"]):
        subprocess.run(
            [sys.executable, "-m", "service.cli", *command], check=True, env=env, cwd=ROOT
        )
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the app under test: test database, blobs in a temporary directory."""
    return load_settings(
        {
            "NARYAD_ENV": "test",
            "NARYAD_DATABASE_URL": database_url,
            "NARYAD_BLOB_DIR": str(tmp_path_factory.mktemp("blobs")),
            "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
        }
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    """The application."""
    from service.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client for the app (lifespan started once for the session)."""
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


def problem(response: object) -> dict[str, object]:
    """Assert the response is problem+json and return it."""
    assert response.headers["content-type"].startswith("application/problem+json"), (  # type: ignore[attr-defined]
        response.text  # type: ignore[attr-defined]
    )
    body = msgspec.json.decode(response.content)  # type: ignore[attr-defined]
    assert body["status"] == response.status_code  # type: ignore[attr-defined]
    return body  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServedApp:
    """An app served by uvicorn in its own process: where to reach it, what to measure."""

    url: str
    port: int
    pid: int
    blob_dir: str
    log: Path


@contextmanager
def serve_process(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str] | None = None,
) -> Iterator[ServedApp]:
    """`naryad serve` in its own process on the test database, until the block ends."""
    port = _free_port()
    blob_dir = str(tmp_path_factory.mktemp("served-blobs"))
    env = {
        **os.environ,
        "NARYAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "NARYAD_ENV": "test",
        "NARYAD_DATABASE_URL": database_url,
        "NARYAD_BLOB_DIR": blob_dir,
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
        **(extra_env or {}),
    }
    # uvicorn reads this itself: only NARYAD_TRUSTED_PROXIES may decide whom to trust.
    env.pop("FORWARDED_ALLOW_IPS", None)
    log = tmp_path_factory.mktemp("served-app") / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # the server's tracebacks, when a case finds a 500
    )
    print(f"served app log: {log}")
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the server did not start: {log.read_text()}")
        yield ServedApp(url=url, port=port, pid=process.pid, blob_dir=blob_dir, log=log)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def serve_app(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """The app served by uvicorn in its own process, on the test database; its base URL."""
    with serve_process(database_url, tmp_path_factory, extra_env) as served:
        yield served.url


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn in its own process, on the test database."""
    with serve_app(database_url, tmp_path_factory) as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``cluster`` (a minute each, the whole topology) run after all the others."""
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)
