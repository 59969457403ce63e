"""Shared bench plumbing: a bench database, live servers, and `wrk` as the load generator.

Throughput comes from `wrk` (Debian's package, installed by infra/system-deps.sh for the bench
profile): an httpx loop in Python caps a server near 1,000 req/s on these machines and so
measures itself as much as the server. The server under load is pinned to CPU 0 and wrk to
CPU 1 with `taskset` when the machine has both, so the generator never takes the server's core
(PostgreSQL is left to the scheduler). Figures are ratios over interleaved rounds (A, B, A, B,
...), printed as the median with the min-max spread, never single absolute runs.

Throughput on a machine shared with other work measures the neighbours too: a round in which
another process takes the server's core halves the rate. So each wrk run also reads the server
process's own CPU time (user + system, from /proc) and divides it by the requests completed:
CPU microseconds per request is what the server spent, whatever else ran, and the ratio of two
servers' CPU per request is the steadier figure of the two.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from service.auth.tokens import issue_access_token
from service.common.actor import Actor
from service.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def bench_database_url(suffix: str = "") -> str:
    """`<database>_bench` (plus the suffix: one database per bench) next to the configured one."""
    url = make_url(load_settings().database.url)
    name = f"{url.database}_bench{suffix}"
    return url.set(database=name).render_as_string(hide_password=False)


async def recreate_database(url: str) -> None:
    """Drop and create the database, empty."""
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()


def migrate(url: str) -> None:
    """Alembic upgrade head on the given database."""
    env = {**os.environ, "NARYAD_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "service.cli", "db", "upgrade"], check=True, env=env, cwd=ROOT
    )


def fresh_bench_database(suffix: str = "") -> str:
    """The bench database of that suffix, dropped, created and migrated; its URL."""
    url = bench_database_url(suffix)
    asyncio.run(recreate_database(url))
    migrate(url)
    return url


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVER_CPU = "0"
LOAD_CPU = "1"


def pinned(command: list[str], cpu: str) -> list[str]:
    """The command under `taskset -c cpu` when taskset exists and the machine has two CPUs."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", cpu, *command]
    return command


# The pid of each server serve() started, by base URL: wrk runs read its CPU time.
_SERVER_PIDS: dict[str, int] = {}
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used (None where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command's ")": state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


def server_pid(url: str) -> int | None:
    """The pid of the server serve() started for the URL's origin, if it was one of ours."""
    for base, pid in _SERVER_PIDS.items():
        if url.startswith(base):
            return pid
    return None


@contextmanager
def serve(command: list[str], env: Mapping[str, str]) -> Iterator[str]:
    """A server process (pinned to the server CPU) on a free port, until the block ends.

    ``command`` is completed with ``--port N``; the process must answer ``GET /health``
    and serve in this process (one uvicorn worker), since its CPU time is read by pid.
    """
    port = free_port()
    process = subprocess.Popen(
        pinned([*command, "--port", str(port)], SERVER_CPU),
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{command} did not start")
        _SERVER_PIDS[base] = process.pid  # taskset execs the command: the same pid
        yield base
    finally:
        _SERVER_PIDS.pop(base, None)
        process.terminate()
        process.wait(timeout=10)


def server_env(url: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a bench server runs in."""
    return {
        **os.environ,
        "NARYAD_DATABASE_URL": url,
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
        # Logs as production writes them (one JSON object a line), not the console's format.
        "NARYAD_LOG_FORMAT": "json",
        **(extra_env or {}),
    }


@contextmanager
def live_server(url: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """naryad as `make run` serves it (`naryad serve`: uvicorn, one process) on the database."""
    with serve([sys.executable, "-m", "service.cli", "serve"], server_env(url, extra_env)) as base:
        yield base


@contextmanager
def ceiling_server(url: str) -> Iterator[str]:
    """The ceiling app (tests/bench/ceiling.py) on the same uvicorn settings and database."""
    with serve([sys.executable, "-m", "tests.bench.ceiling"], server_env(url)) as base:
        yield base


_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_COUNT = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors: .*")


@dataclass(frozen=True)
class Run:
    """One wrk run: requests per second, and the server's CPU microseconds per request."""

    rate: float
    cpu_us: float | None  # None when the server is not one serve() started


def wrk_rate(
    url: str, headers: Mapping[str, str], seconds: float = 3.0, connections: int = 8
) -> float:
    """Requests per second wrk completes against ``url``; any non-2xx/3xx answer is an error."""
    return wrk_run(url, headers, seconds, connections).rate


def wrk_run(
    url: str, headers: Mapping[str, str], seconds: float = 3.0, connections: int = 8
) -> Run:
    """wrk against ``url``: its rate and the server's CPU per request over the same run."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: run `bash infra/system-deps.sh bench` (as root)")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    pid = server_pid(url)
    cpu_before = cpu_seconds(pid) if pid is not None else None
    result = subprocess.run(
        pinned([*command, url], LOAD_CPU), check=True, capture_output=True, text=True
    )
    cpu_after = cpu_seconds(pid) if pid is not None else None
    failed = _NON_2XX.search(result.stdout)
    if failed:
        raise RuntimeError(f"{url}: {failed.group(1)} non-2xx answers\n{result.stdout}")
    match, count = _RATE.search(result.stdout), _COUNT.search(result.stdout)
    if match is None or count is None:
        raise RuntimeError(f"unexpected wrk output: {result.stdout}")
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and int(count.group(1)):
        cpu_us = (cpu_after - cpu_before) * 1e6 / int(count.group(1))
    return Run(float(match.group(1)), cpu_us)


@dataclass(frozen=True)
class Target:
    """One request to put load on: a full URL and its headers."""

    url: str
    headers: Mapping[str, str]


def interleaved(
    targets: Mapping[str, Target],
    rounds: int = 5,
    seconds: float = 3.0,
    cpu: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Requests/s of every target per round, the targets taking turns within each round.

    With ``cpu``, the server's CPU microseconds per request of each run go there too (for
    targets served by serve()).
    """
    for target in targets.values():
        wrk_rate(target.url, target.headers, 1)  # warm up: pools, caches, JIT-free imports
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            run = wrk_run(target.url, target.headers, seconds)
            rates[name].append(run.rate)
            if cpu is not None and run.cpu_us is not None:
                cpu.setdefault(name, []).append(run.cpu_us)
    return rates


def ratios(subject: list[float], baseline: list[float]) -> list[float]:
    """Per-round subject/baseline."""
    return [s / b for s, b in zip(subject, baseline, strict=True)]


def spread(values: list[float], digits: int = 2) -> str:
    """Median with min-max, e.g. ``0.53 (0.49-0.57, 5 rounds)``."""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f}, {len(values)} rounds)"
    )


def print_against_health(what: str, figures: Mapping[str, tuple[float, float, float]]) -> None:
    """One line per figure of compare() against /health: both rates and their ratio."""
    for name, (subject, bare, ratio) in figures.items():
        print(f"{what} {name}: {subject:,.0f} req/s, /health {bare:,.0f} req/s, ratio {ratio:.3f}")


async def compare(
    base_url: str,
    subject: str,
    baseline: str,
    headers: dict[str, str],
    rounds: int = 5,
    seconds: float = 3.0,
) -> tuple[float, float, float]:
    """wrk on subject and baseline in interleaved rounds; medians and the median per-round ratio.

    Also prints the ratio's spread over the rounds.
    """
    rates = interleaved(
        {
            "baseline": Target(base_url + baseline, headers),
            "subject": Target(base_url + subject, headers),
        },
        rounds,
        seconds,
    )
    per_round = ratios(rates["subject"], rates["baseline"])
    print(f"  {subject} / {baseline}: {spread(per_round, 3)}")
    return (
        statistics.median(rates["subject"]),
        statistics.median(rates["baseline"]),
        statistics.median(per_round),
    )


async def bench_token(url: str, actor: Actor) -> str:
    """An access token for a real session of the actor's (existing) user."""
    session_id = uuid.uuid4()
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await connection.execute(
            "INSERT INTO auth_sessions (id, user_id) VALUES ($1, $2)", session_id, actor.user_id
        )
    finally:
        await connection.close()
    settings = load_settings({"NARYAD_DATABASE_URL": url})
    return issue_access_token(replace(actor, session=session_id), settings.auth, datetime.now(UTC))
