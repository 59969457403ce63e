"""openapi.yaml is current, and the running app honours it under schemathesis fuzzing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.auth.actor import Actor, Role
from service.auth.tokens import issue_access_token
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_file_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "openapi", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn in its own process, on the test database."""
    port = _free_port()
    env = {
        **os.environ,
        "NARYAD_ENV": "test",
        "NARYAD_DATABASE_URL": database_url,
        "NARYAD_BLOB_DIR": str(tmp_path_factory.mktemp("fuzz-blobs")),
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
    }
    log = tmp_path_factory.mktemp("fuzz-server") / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # the server's tracebacks, when a case finds a 500
    )
    print(f"fuzzed server log: {log}")
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def admin_headers(settings: Settings) -> dict[str, str]:
    """An admin token signed with the live server's secret."""
    admin = Actor(user_id=uuid4(), role=Role.ADMIN, territory_ids=frozenset())
    token = issue_access_token(admin, settings.auth, datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


schema = schemathesis.openapi.from_path(ROOT / "openapi.yaml")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(
    case: schemathesis.Case, live_server: str, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        base_url=live_server,
        headers=admin_headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
