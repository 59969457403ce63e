"""``naryad worker``: deliver outbox messages and run periodic jobs until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from service.settings import load_settings


async def _run_worker(once: bool, concurrency: int | None) -> int:
    from service.acts.rendering import ActRenderer, worker_sealer
    from service.db.engine import make_engine, make_sessionmaker
    from service.jobs import JobRunner, jobs_for
    from service.notifications.channels import build_channels
    from service.notifications.worker import Worker
    from service.storage import build_blob_store

    settings = load_settings()
    logger = logging.getLogger("naryad.notifications.worker")
    if settings.environment == "production" and settings.notifications.adapter == "log":
        logger.warning("NARYAD_NOTIFY_ADAPTER=log in production: messages are only logged")
    engine = make_engine(settings.database)
    channels = build_channels(
        settings.notifications, include_text=settings.environment == "development"
    )
    overrides = {"concurrency": concurrency} if concurrency else {}
    sessionmaker = make_sessionmaker(engine)
    worker = Worker.from_settings(sessionmaker, channels, settings.notifications, **overrides)
    store = build_blob_store(settings)
    jobs = JobRunner(sessionmaker, store, jobs=jobs_for(settings))
    renderer = ActRenderer(sessionmaker, store, settings, worker_sealer(settings))
    try:
        if once:
            await jobs.run_due()
            await renderer.drain()
            outcomes = await worker.drain()
            return len(outcomes)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await asyncio.gather(worker.run(stop), jobs.loop(stop), renderer.loop(stop))
        return 0
    finally:
        await channels.aclose()
        await engine.dispose()


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver everything due now, then exit.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=256),
    default=None,
    help="Deliveries in flight at once (NARYAD_WORKER_CONCURRENCY, default 8).",
)
def worker_command(once: bool, concurrency: int | None) -> None:
    """Deliver notifications from the outbox until SIGTERM or SIGINT."""
    from service.observability.logs import configure_logging

    configure_logging(load_settings().observability)
    processed = asyncio.run(_run_worker(once, concurrency))
    if once:
        click.echo(f"processed {processed} messages")


if __name__ == "__main__":
    worker_command()
