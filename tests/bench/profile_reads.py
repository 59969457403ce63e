"""Where a served request's CPU goes: py-spy samples naryad (and the ceiling) under wrk.

    python -m tests.bench.profile_reads [seconds]

Serves both on the golden data set (bench_ceiling's database), loads the work-order list and the
day bundle with wrk for ``seconds`` each while py-spy samples the server process, and prints the
share of samples per layer (uvicorn's HTTP, Litestar's routing and middleware, our auth and
session check, database driver, ORM/SQLAlchemy, encoding, logging/metrics, the handler).
Layers are matched by the innermost of our frames or the library file a sample is in.
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

# (layer, pattern on "function (file:line)"), first match from the innermost frame outwards.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in (
        ("db driver (asyncpg)", r"asyncpg/"),
        ("sqlalchemy", r"sqlalchemy/"),
        ("json encoding (msgspec)", r"msgspec|encode_json|_encode"),
        ("logging/metrics", r"logging/|prometheus|observability/"),
        ("gzip/compression", r"gzip|zlib|compression"),
        ("auth (jwt, session check)", r"service/auth/|jwt/|/jose/"),
        ("our read code (orders, execution)", r"service/(orders|execution|db)/"),
        ("our middleware and app", r"service/"),
        ("litestar DI/kwargs/signature", r"litestar/_kwargs|litestar/_signature|litestar/di"),
        ("litestar middleware", r"litestar/middleware"),
        ("litestar routing/response", r"litestar/"),
        ("uvicorn/httptools (HTTP)", r"uvicorn/|httptools|h11/"),
        ("asyncio loop", r"asyncio/|uvloop"),
    )
]


def classify(stack: str) -> str:
    """The layer of one sample (its frames innermost last, as py-spy's raw format writes)."""
    frames = stack.split(";")
    for frame in reversed(frames):
        for name, pattern in LAYERS:
            if pattern.search(frame):
                return name
    return "other"


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
        if "select (selectors.py" in stack or ("epoll" in stack and "run_once" in stack):
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
    for layer, share in shares.items():
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
