"""Where a served request's CPU goes: py-spy samples naryad (and the ceiling) under wrk.

    python -m tests.bench.profile_reads [seconds]

Serves both on the golden data set (bench_ceiling's served_reads), loads the work-order list
and the day bundle with wrk for ``seconds`` each while py-spy samples the server process, and
prints the share of samples per layer (uvicorn's HTTP, Litestar's routing and middleware, our
auth and session check, database driver, SQLAlchemy, logging, metrics, our packages): each
sample is charged to the library of its innermost non-stdlib frame.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.bench.bench_ceiling import DAY_PATH, LIST_PATH, served_reads
from tests.bench.support import server_pid, wrk_rate

# Libraries a sample is charged to: the innermost frame from one of them (or from our code,
# by package); frames of the standard library (asyncio's socket writes, say) are charged to
# the library that called them. "logging" is the standard library's, kept apart on purpose.
LIBRARIES = (
    "litestar",
    "uvicorn",
    "h11",
    "httptools",
    "uvloop",
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


def measure(name: str, base: str, path: str, headers: dict[str, str], seconds: int) -> None:
    """wrk on the path while py-spy samples the server; prints the rate and the layers."""
    pid = server_pid(base)
    assert pid is not None, base
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
    """Profile both servers on bench_ceiling's data set (NARYAD_BENCH_REUSE=1 keeps it)."""
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with served_reads("profile-phone") as reads:
        for base in (reads.naryad, reads.ceiling):
            for path, headers in ((LIST_PATH, reads.staff), (DAY_PATH, reads.phone)):
                wrk_rate(base + path, headers, 1)
        for label, base in (("naryad", reads.naryad), ("ceiling", reads.ceiling)):
            measure(f"list {label}", base, LIST_PATH, reads.staff, seconds)
            measure(f"day {label}", base, DAY_PATH, reads.phone, seconds)


if __name__ == "__main__":
    main()
