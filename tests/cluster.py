"""The `make cluster` topology (infra/cluster.sh) in a temporary directory on free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "infra" / "cluster.sh"
PG_SCRIPT = ROOT / "infra" / "pg.sh"


def free_ports(count: int) -> list[int]:
    """Distinct ports nothing listens on now (held open together so none repeats)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Cluster:
    """A running cluster: HAProxy's URL, the directory with configs, pids and logs."""

    directory: Path
    env: dict[str, str]
    url: str
    api_ports: list[int]
    restarts: list[str] = field(default_factory=list)

    def pid(self, name: str) -> int:
        """The pid of a process of the cluster (api1, worker2, haproxy)."""
        return int((self.directory / "run" / f"{name}.pid").read_text())

    def log(self, name: str) -> str:
        """A process's log so far."""
        return (self.directory / "log" / f"{name}.log").read_text(errors="replace")

    def start(self) -> None:
        """`infra/cluster.sh start`: starts what is not running (all of it the first time)."""
        done = subprocess.run(
            ["bash", str(SCRIPT), "start"],
            check=False,
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            logs = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                for p in sorted((self.directory / "log").glob("*.log"))
            )
            raise RuntimeError(f"cluster.sh start failed:\n{done.stdout}{done.stderr}\n{logs}")

    def kill(self, name: str) -> int:
        """SIGKILL one process and wait until it is gone; returns its pid."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        for _ in range(200):
            if not _running(pid):
                return pid
            time.sleep(0.05)
        raise RuntimeError(f"{name} ({pid}) survived SIGKILL")

    def stop(self) -> None:
        """`infra/cluster.sh stop`."""
        subprocess.run(
            ["bash", str(SCRIPT), "stop"], check=True, env=self.env, cwd=ROOT, timeout=60
        )


@contextmanager
def private_primary(directory: Path, template_url: str) -> Iterator[str]:
    """A PostgreSQL of its own (infra/pg.sh) holding a copy of ``template_url``'s database.

    A standby copies its primary's whole cluster: of this one, megabytes; of the shared test
    server, every test database on it.
    """
    (port,) = free_ports(1)
    env = {**os.environ, "NARYAD_PG_DIR": str(directory), "NARYAD_PG_PORT": str(port)}
    subprocess.run(["bash", str(PG_SCRIPT), "start"], check=True, env=env, cwd=ROOT, timeout=120)
    try:
        source = make_url(template_url).set(drivername="postgresql")
        target = source.set(host="127.0.0.1", port=port, database="naryad")
        dump = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", _libpq(source)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", _libpq(target)],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield target.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    finally:
        subprocess.run(["bash", str(PG_SCRIPT), "stop"], check=False, env=env, cwd=ROOT)
        # As root the data lives in /var/tmp behind a link (see infra/pg.sh).
        shutil.rmtree(directory.resolve(), ignore_errors=True)


def _libpq(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@contextmanager
def running_cluster(
    directory: Path,
    database_url: str,
    *,
    api: int = 2,
    workers: int = 2,
    standby: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """Bring the topology up with the same script as `make cluster`; stop it afterwards.

    ``standby``: with the hot standby of ``database_url``'s server that `make cluster` starts
    (a copy of that whole server: see ``private_primary``).
    """
    proxy, bouncer, standby_port, *api_ports = free_ports(3 + api)
    # The script numbers API ports from the first one: they must be consecutive and free.
    first = api_ports[0]
    for _ in range(50):
        candidates = list(range(first, first + api))
        if all(_is_free(port) for port in candidates):
            api_ports = candidates
            break
        first = free_ports(1)[0]
    url = f"http://127.0.0.1:{proxy}"
    env = {
        **os.environ,
        "NARYAD_CLUSTER_DIR": str(directory),
        "NARYAD_CLUSTER_PORT": str(proxy),
        "NARYAD_CLUSTER_API": str(api),
        "NARYAD_CLUSTER_API_PORT": str(api_ports[0]),
        "NARYAD_CLUSTER_WORKERS": str(workers),
        "NARYAD_CLUSTER_PGBOUNCER_PORT": str(bouncer),
        "NARYAD_CLUSTER_STANDBY": "1" if standby else "0",
        "NARYAD_CLUSTER_STANDBY_PORT": str(standby_port),
        "NARYAD_CLUSTER_PYTHON": sys.executable,
        "NARYAD_DATABASE_URL": database_url,
        "NARYAD_PUBLIC_BASE_URL": url,
        "NARYAD_ENV": "test",
        "NARYAD_LOGIN_RATE_PER_MINUTE": "100000",
        "NARYAD_S3_ACCESS_KEY_ID": os.environ.get("NARYAD_S3_ACCESS_KEY_ID", "testing"),
        "NARYAD_S3_SECRET_ACCESS_KEY": os.environ.get("NARYAD_S3_SECRET_ACCESS_KEY", "testing"),
        "NARYAD_S3_CREATE_BUCKET": "1",
        "NARYAD_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    cluster = Cluster(directory=directory, env=env, url=url, api_ports=api_ports)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        standby_dir = directory / "standby"
        if standby_dir.exists():
            shutil.rmtree(standby_dir.resolve(), ignore_errors=True)


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _running(pid: int) -> bool:
    """Alive and not a zombie (the script's children are reaped by whoever adopted them)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
