"""Start-up checks with one-line, actionable errors."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def wait_for_database(url: str, seconds: float) -> str | None:
    """None when the database answers and offers PostGIS; otherwise what is wrong."""
    engine = create_async_engine(url)
    deadline = time.monotonic() + seconds
    last_error = ""
    try:
        while time.monotonic() < deadline:
            try:
                async with engine.connect() as connection:
                    available = await connection.scalar(
                        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
                    )
                    if not available:
                        return (
                            "PostGIS is not installed on the database server; install "
                            "postgresql-<version>-postgis-3 (Debian) or your platform's postgis"
                        )
                    return None
            except Exception as exc:  # noqa: BLE001 - any failure is reported in one line
                last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                await asyncio.sleep(0.5)
        where = engine.url.render_as_string(hide_password=True)
        return f"database not reachable at {where}: {last_error}"
    finally:
        await engine.dispose()
