"""A real `naryad serve` writes access log lines with customer link tokens masked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
    }
    access_log = tmp_path / "access.log"
    with access_log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,  # uvicorn's access log goes to stdout
            stderr=subprocess.STDOUT,
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
    assert "/rate/*** HTTP" in log or "/rate/***?lang=kk HTTP" in log, log[-2000:]
    assert '"GET /mobile/v1/sign/*** HTTP/1.1"' in log
    assert '"GET /mobile/v1/acts/copy/*** HTTP/1.1"' in log
    assert "sig=***" in log
    assert TOKEN not in log
