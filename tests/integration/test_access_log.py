"""A real `naryad serve` logs each request once, with customer link tokens masked.

The line is the app's own (service.observability.logs: route, path, status, duration, client);
uvicorn's access line is off, so there is no second copy of the path to leak from.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from service.common.access_log import mask_secrets
from tests.conftest import ROOT, _free_port

TOKEN = "Zk8_secretLinkToken-0123456789abcdefghijklmn"


def test_access_log_lines_mask_link_tokens_and_signatures(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "NARYAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "NARYAD_ENV": "test",
        "NARYAD_DATABASE_URL": database_url,
        "NARYAD_BLOB_DIR": str(tmp_path / "blobs"),
        "NARYAD_LOG_FORMAT": "json",
    }
    access_log = tmp_path / "access.log"
    with access_log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,  # the app's log lines go to stderr
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                pytest.fail("the server did not start")
            paths = [
                f"/rate/{TOKEN}?lang=kk",
                f"/mobile/v1/sign/{TOKEN}",
                f"/mobile/v1/acts/copy/{TOKEN}",
                f"/blobs/acts/x.pdf?exp=1&sig={TOKEN}",
            ]
            for path in paths:
                httpx.get(url + path, timeout=10)
        finally:
            process.terminate()
            process.wait(timeout=20)
    log = access_log.read_text(errors="replace")
    requests = [line for line in log.splitlines() if '"event": "request"' in line]
    assert len(requests) >= 5, log[-2000:]  # /health and the four paths, one line each
    assert any('"path": "/rate/***?lang=kk"' in line for line in requests), log[-2000:]
    assert any('"path": "/mobile/v1/sign/***"' in line for line in requests)
    assert any('"path": "/mobile/v1/acts/copy/***"' in line for line in requests)
    assert any('"path": "/blobs/acts/x.pdf?exp=1&sig=***"' in line for line in requests)
    assert TOKEN not in log
    assert "HTTP/1.1" not in log  # no uvicorn access line besides the app's own


def test_every_route_with_a_token_in_its_path_is_masked(app: Litestar) -> None:
    # A new customer link (its bearer token a path parameter) must join the mask, or its
    # token lands in every log line of its requests.
    token_routes = [route.path for route in app.routes if "{token" in route.path]
    assert len(token_routes) >= 5  # signing, its code, the act copy, rating, appeal status
    for path in token_routes:
        sent = re.sub(r"\{token(:\w+)?\}", TOKEN, path)
        assert TOKEN not in mask_secrets(sent), path
