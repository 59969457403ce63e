"""Shared bench plumbing: a bench database, a live server, a small load generator."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
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


@contextmanager
def live_server(url: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """uvicorn serving the app in its own process on the given database."""
    port = free_port()
    env = {
        **os.environ,
        "NARYAD_DATABASE_URL": url,
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
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
            raise RuntimeError("server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


async def requests_per_second(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    seconds: float,
    concurrency: int = 8,
) -> float:
    """Completed 200 responses per second with a fixed number of concurrent callers."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            response = await client.get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def compare(
    base_url: str,
    subject: str,
    baseline: str,
    headers: dict[str, str],
    rounds: int = 3,
    seconds: float = 2.0,
) -> tuple[float, float, float]:
    """Interleaved rounds of subject and baseline; medians and the median of per-round ratios."""
    subject_rates, baseline_rates = [], []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await requests_per_second(client, subject, headers, 0.5)  # warm up
        for _ in range(rounds):
            baseline_rates.append(await requests_per_second(client, baseline, headers, seconds))
            subject_rates.append(await requests_per_second(client, subject, headers, seconds))
    ratios = [s / b for s, b in zip(subject_rates, baseline_rates, strict=True)]
    return (
        statistics.median(subject_rates),
        statistics.median(baseline_rates),
        statistics.median(ratios),
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
