"""Where a served request's CPU goes: py-spy samples naryad (and the ceiling) under wrk.

    python -m tests.bench.profile_reads [seconds]

Serves both on the golden data set (bench_ceiling's database), loads the work-order list and the
day bundle with wrk for ``seconds`` each while py-spy samples the server process, and prints the
share of samples per layer (uvicorn's HTTP, Litestar's routing and middleware, our auth and
session check, database driver, SQLAlchemy, logging, metrics, our packages): each sample is
charged to the library of its innermost non-stdlib frame.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx

from tests.bench.bench_ceiling import log_in, prepare
from tests.bench.support import (
    ROOT,
    bench_database_url,
    ceiling_server,
    live_server,
    migrate,
    recreate_database,
    wrk_rate,
)
from tests.integration.reads import golden_data

# Libraries a sample is charged to: the innermost frame from one of them (or from our code,
# by package); frames of the standard library (asyncio's socket writes, say) are charged to
# the library that called them. "logging" is the standard library's, kept apart on purpose.
LIBRARIES = (
    "litestar",
    "uvicorn",
    "h11",
    "httptools",
    "asyncpg",
    "sqlalchemy",
    "structlog",
    "prometheus_client",
    "msgspec",
    "jwt",
    "logging",
    "greenlet",
    "anyio",
    "jinja2",
    "opentelemetry",
    "tests",
)
_FRAME = re.compile(r"\(([^:()]+):\d+\)$")


def charged_to(frame: str) -> str | None:
    """The library (or our package) of one "function (path:line)" frame, None for stdlib."""
    match = _FRAME.search(frame)
    if match is None:
        return None
    parts = match.group(1).split("/")
    if parts[0] == "service" and len(parts) > 1:
        return "service/" + parts[1].removesuffix(".py")
    return parts[0] if parts[0] in LIBRARIES else None


def classify(stack: str) -> str:
    """The layer of one sample (its frames innermost last, as py-spy's raw format writes)."""
    for frame in reversed(stack.split(";")):
        layer = charged_to(frame)
        if layer is not None:
            return layer
    return "event loop / stdlib"


def profile(pid: int, seconds: int, out: Path) -> None:
    """py-spy record of the process for ``seconds``, collapsed stacks into ``out``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    subprocess.run(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "400",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )


def layers(out: Path) -> dict[str, float]:
    """Share of samples per layer, idle (waiting in the loop's select) left out."""
    counts: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if "select (selectors.py" in stack:  # idle: waiting for the next event
            continue
        counts[classify(stack)] += int(n)
    total = sum(counts.values()) or 1
    return {name: counts[name] / total for name in sorted(counts, key=lambda k: -counts[k])}


def server_pid(base: str) -> int:
    """The pid listening on the base URL's port (the uvicorn process)."""
    port = base.rsplit(":", 1)[1]
    found = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], check=False, capture_output=True, text=True
    )
    match = re.search(r"pid=(\d+)", found.stdout)
    if match is None:
        raise RuntimeError(f"no process on {base}: {found.stdout}")
    return int(match.group(1))


def measure(name: str, base: str, path: str, headers: dict[str, str], seconds: int) -> None:
    pid = server_pid(base)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stacks.txt"
        rate: list[float] = []
        load = threading.Thread(target=lambda: rate.append(wrk_rate(base + path, headers, seconds)))
        load.start()
        profile(pid, seconds, out)
        load.join()
        shares = layers(out)
    print(f"{name}: {rate[0]:,.0f} req/s under py-spy")
    for layer, share in list(shares.items())[:14]:
        print(f"    {share:6.1%}  {layer}")


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    subprocess.run(
        [sys.executable, "-m", "service.cli", "checklists", "publish"],
        check=True,
        env={**os.environ, "NARYAD_DATABASE_URL": url},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    asyncio.run(prepare(url))
    list_path = f"/api/v1/work-orders?limit=50&territory_id={golden_data.TERRITORY}"
    day_path = f"/mobile/v1/day?date={golden_data.DAY.isoformat()}"
    with live_server(url) as naryad, ceiling_server(url) as ceiling:
        staff = log_in(naryad, golden_data.DISPATCHER_NAME)
        phone = log_in(naryad, golden_data.TECH_NAME, "profile-phone")
        for base in (naryad, ceiling):
            for path, headers in ((list_path, staff), (day_path, phone)):
                assert httpx.get(base + path, headers=headers, timeout=30).status_code == 200
                wrk_rate(base + path, headers, 1)
        for label, base in (("naryad", naryad), ("ceiling", ceiling)):
            measure(f"list {label}", base, list_path, staff, seconds)
            measure(f"day {label}", base, day_path, phone, seconds)


if __name__ == "__main__":
    main()
