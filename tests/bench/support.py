"""Shared bench plumbing: a bench database, live servers, and `wrk` as the load generator.

Throughput comes from `wrk` (Debian's package, installed by infra/system-deps.sh for the bench
profile): an httpx loop in Python caps a server near 1,000 req/s on these machines and so
measures itself as much as the server. The server under load is pinned to CPU 0 and wrk to
CPU 1 with `taskset` when the machine has both, so the generator never takes the server's core
(PostgreSQL is left to the scheduler). Figures are ratios over interleaved rounds (A, B, A, B,
...), printed as the median with the min-max spread, never single absolute runs.
"""

from __future__ import annotations

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


def bench_database_url() -> str:
    """`<database>_bench` next to the configured database."""
    url = make_url(load_settings().database.url)
    return url.set(database=f"{url.database}_bench").render_as_string(hide_password=False)


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


@contextmanager
def serve(command: list[str], env: Mapping[str, str]) -> Iterator[str]:
    """A server process (pinned to the server CPU) on a free port, until the block ends.

    ``command`` is completed with ``--port N``; the process must answer ``GET /health``.
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
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def server_env(url: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a bench server runs in."""
    return {
        **os.environ,
        "NARYAD_DATABASE_URL": url,
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
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
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors: .*")


def wrk_rate(
    url: str, headers: Mapping[str, str], seconds: float = 3.0, connections: int = 8
) -> float:
    """Requests per second wrk completes against ``url``; any non-2xx/3xx answer is an error."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: run `bash infra/system-deps.sh bench` (as root)")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        pinned([*command, url], LOAD_CPU), check=True, capture_output=True, text=True
    )
    failed = _NON_2XX.search(result.stdout)
    if failed:
        raise RuntimeError(f"{url}: {failed.group(1)} non-2xx answers\n{result.stdout}")
    match = _RATE.search(result.stdout)
    if match is None:
        raise RuntimeError(f"unexpected wrk output: {result.stdout}")
    return float(match.group(1))


@dataclass(frozen=True)
class Target:
    """One request to put load on: a full URL and its headers."""

    url: str
    headers: Mapping[str, str]


def interleaved(
    targets: Mapping[str, Target], rounds: int = 5, seconds: float = 3.0
) -> dict[str, list[float]]:
    """Requests/s of every target per round, the targets taking turns within each round."""
    for target in targets.values():
        wrk_rate(target.url, target.headers, 1)  # warm up: pools, caches, JIT-free imports
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            rates[name].append(wrk_rate(target.url, target.headers, seconds))
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
