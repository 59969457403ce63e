"""Test settings: a fresh test database migrated with Alembic, the app, and a data builder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
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
from sqlalchemy.ext.asyncio import create_async_engine

from service.db.engine import make_sessionmaker
from service.settings import Settings, load_settings
from tests.integration.builders import Builder

ROOT = Path(__file__).resolve().parent.parent


def _test_database_url() -> str:
    explicit = os.environ.get("NARYAD_TEST_DATABASE_URL")
    if explicit:
        return explicit
    url = make_url(load_settings().database.url)
    return url.set(database=f"{url.database}_test").render_as_string(hide_password=False)


async def _admin_execute(url: str, *statements: str) -> None:
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _recreate_database(url: str) -> None:
    name = make_url(url).database
    await _admin_execute(
        url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )


def _template_name(url: str) -> str:
    return f"{make_url(url).database}_template"


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
    # A copy taken before any test writes: `fresh_database` clones it in about 0.1 s.
    template = _template_name(url)
    asyncio.run(
        _admin_execute(
            url,
            f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
            f'CREATE DATABASE "{template}" TEMPLATE "{make_url(url).database}"',
        )
    )
    return url


@pytest.fixture
async def fresh_database(database_url: str) -> AsyncIterator[str]:
    """A database of this test's own, migrated and published, dropped afterwards.

    For tests whose subject reads the whole of a table (a worker delivers every due message):
    they get a database nobody else writes to instead of sweeping the shared one.
    """
    name = f"{make_url(database_url).database}_{uuid.uuid4().hex[:12]}"
    await _admin_execute(
        database_url, f'CREATE DATABASE "{name}" TEMPLATE "{_template_name(database_url)}"'
    )
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the app under test: test database, blobs in a temporary directory."""
    return load_settings(
        {
            "NARYAD_ENV": "test",
            "NARYAD_DATABASE_URL": database_url,
            "NARYAD_BLOB_DIR": str(tmp_path_factory.mktemp("blobs")),
            "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
            "NARYAD_APPEAL_RATE_PER_HOUR": "100000",
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


@pytest.fixture
def fresh_settings(settings: Settings, fresh_database: str) -> Settings:
    """The test settings pointed at this test's own database (see ``fresh_database``)."""
    database = msgspec.structs.replace(settings.database, url=fresh_database)
    return msgspec.structs.replace(settings, database=database)


@pytest.fixture
async def fresh_client(fresh_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app on this test's own database, served in-process for this test only."""
    from service.app import create_app

    app = create_app(fresh_settings)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
async def fresh_build(fresh_settings: Settings) -> AsyncIterator[Builder]:
    """A data builder writing to this test's own database."""
    engine = create_async_engine(fresh_settings.database.url, pool_size=2)
    yield Builder(sessionmaker=make_sessionmaker(engine), settings=fresh_settings)
    await engine.dispose()


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
        "NARYAD_APPEAL_RATE_PER_HOUR": "100000",
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


@pytest.fixture
def fresh_server(fresh_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served in its own process on this test's own database."""
    with serve_app(fresh_database, tmp_path_factory) as url:
        yield url


# Not the default (1600): a photo the phone stored at this size shows the setting reached it.
LIVE_PHOTO_MAX_SIDE = 1200


@pytest.fixture(scope="session")
def live_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app served by uvicorn in its own process, on the test database."""
    env = {"NARYAD_PHOTO_MAX_SIDE": str(LIVE_PHOTO_MAX_SIDE)}
    with serve_process(database_url, tmp_path_factory, env) as served:
        yield served


@pytest.fixture(scope="session")
def live_server(live_app: ServedApp) -> str:
    """The base URL of the app served in its own process."""
    return live_app.url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``cluster`` (a minute each, the whole topology) run after all the others."""
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)
