"""`naryad checklists publish`: store the template files' new versions in the database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from checklists import TemplateError, VersionConflict
from service.db.engine import make_engine, make_sessionmaker
from service.settings import load_settings
from service.visit_checklists.registry import publish


@click.command("publish")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def publish_command(directory: str | None) -> None:
    """Publish new template versions (default: the shipped templates); idempotent."""

    async def run() -> list[str]:
        engine = make_engine(load_settings().database)
        try:
            async with make_sessionmaker(engine)() as session:
                report = await publish(session, Path(directory) if directory else None)
                await session.commit()
                return report
        finally:
            await engine.dispose()

    try:
        for line in asyncio.run(run()):
            click.echo(line)
    except (TemplateError, VersionConflict) as exc:
        click.echo(f"naryad: {exc}", err=True)
        sys.exit(1)
