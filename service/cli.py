"""The ``naryad`` command line."""

from __future__ import annotations

import asyncio
import sys

import click

from checklists.cli import checklists_group
from reports.cli import acts_group
from service.acts.cli import seal_cert_command
from service.settings import SettingsError, load_settings
from service.visit_checklists.cli import publish_command
from service.worker import worker_command


class _Commands(click.Group):
    """Reports a configuration error as one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Commands)
def main() -> None:
    """naryad: field-service work orders."""


main.add_command(acts_group)
acts_group.add_command(seal_cert_command)
main.add_command(checklists_group)
checklists_group.add_command(publish_command)
main.add_command(worker_command)


# How `naryad serve` runs uvicorn; the bench's ceiling app runs the same (tests/bench/ceiling.py).
UVICORN_HTTP = "httptools"
UVICORN_LOOP = "uvloop"


@main.command()
@click.option("--host", default=None, help="Bind address (NARYAD_HOST).")
@click.option("--port", default=None, type=int, help="Port (NARYAD_PORT).")
@click.option("--workers", default=1, show_default=True, help="HTTP worker processes.")
@click.option("--with-worker", is_flag=True, help="Also deliver notifications and run jobs.")
def serve(host: str | None, port: int | None, workers: int, with_worker: bool) -> None:
    """Serve the API (with --with-worker, the background worker runs in the same process)."""
    import os

    import uvicorn

    if with_worker:
        os.environ["NARYAD_EMBEDDED_WORKER"] = "1"
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        # Each worker process counts in files here; /metrics from any of them sums them all.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="naryad-metrics-")
    settings = load_settings()
    trusted = list(settings.server.trusted_proxies)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host or settings.server.host,
        port=port or settings.server.port,
        workers=workers,
        # The compiled HTTP parser and event loop (dependencies of the project): with uvicorn's
        # pure-Python h11 and the stock loop, HTTP alone took a fifth of a served read's CPU.
        http=UVICORN_HTTP,
        loop=UVICORN_LOOP,
        # X-Forwarded-For/-Proto count only from NARYAD_TRUSTED_PROXIES; with none, the peer's
        # own address is the client (uvicorn would otherwise trust 127.0.0.1 by default).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_level="info",
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Migrate up (to the latest revision by default)."""
    from service.db.migrate import upgrade

    upgrade(load_settings().database.url, revision)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION."""
    from service.db.migrate import downgrade

    downgrade(load_settings().database.url, revision)


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    from service.db.migrate import revision

    revision(load_settings().database.url, message)


@db.command("wait")
@click.option("--timeout", default=30.0, show_default=True)
def db_wait(timeout: float) -> None:
    """Wait until the database answers and has PostGIS available."""
    from service.db.checks import wait_for_database

    problem = asyncio.run(wait_for_database(load_settings().database.url, timeout))
    if problem:
        click.echo(f"naryad: {problem}", err=True)
        sys.exit(1)


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has work orders.")
def demo_seed(if_empty: bool) -> None:
    """Create the demo users, territories, technicians, customers and work orders."""
    from service.demo.seed import run_seed

    click.echo(asyncio.run(run_seed(load_settings(), only_if_empty=if_empty)))


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 when openapi.yaml is stale.")
def openapi(check: bool) -> None:
    """Write openapi.yaml from the app."""
    from service.contract import OPENAPI_PATH, openapi_is_current, write_openapi

    if check:
        if not openapi_is_current():
            click.echo(f"naryad: {OPENAPI_PATH.name} is stale; run `make openapi`", err=True)
            sys.exit(1)
        click.echo(f"{OPENAPI_PATH.name} is current")
        return
    write_openapi()
    click.echo(f"wrote {OPENAPI_PATH}")


@main.group()
def calendar() -> None:
    """Business calendars."""


@calendar.command("refresh")
@click.option(
    "--years",
    default=None,
    help="Comma-separated years (default: this year and the next).",
)
@click.option("--calendar", "codes", multiple=True, help="Only this calendar code (repeatable).")
def calendar_refresh(years: str | None, codes: tuple[str, ...]) -> None:
    """Rewrite KZ/RU holidays from the `holidays` library; administrator overrides are kept."""
    import datetime as dt

    from service.db.engine import make_engine, make_sessionmaker
    from service.sla.holiday_sources import refresh_calendars

    this_year = dt.datetime.now(dt.UTC).year
    try:
        chosen = [int(y) for y in years.split(",")] if years else [this_year, this_year + 1]
    except ValueError as exc:
        raise click.BadParameter("years must be numbers such as 2027,2028") from exc
    if any(not 2000 <= y <= 2100 for y in chosen):
        raise click.BadParameter("years must lie between 2000 and 2100")

    async def run() -> None:
        engine = make_engine(load_settings().database)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                results = await refresh_calendars(session, chosen, list(codes) or None)
        finally:
            await engine.dispose()
        for r in results:
            click.echo(
                f"{r.calendar_code} {r.year}: {r.added} added, {r.changed} changed, "
                f"{r.removed} removed, {r.overridden} kept as overrides"
            )

    asyncio.run(run())


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every hash chain; exit 1 at the first broken entry."""
    from service.audit.services import verify_chain
    from service.db.engine import make_engine, make_sessionmaker

    async def run() -> str | None:
        engine = make_engine(load_settings().database)
        try:
            async with make_sessionmaker(engine)() as session:
                report = await verify_chain(session)
        finally:
            await engine.dispose()
        if report.intact:
            click.echo(f"audit chain intact: {report.entries} entries in {report.chains} chains")
            return None
        return f"audit chain broken at entry {report.first_broken_id}"

    if problem := asyncio.run(run()):
        click.echo(problem, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
