"""Outbox test fixtures: each test's own outbox, webhook receivers, workers on own engines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.db.engine import make_sessionmaker
from service.notifications.channels import ChannelSet, build_channels
from service.notifications.worker import Worker
from service.settings import NotificationSettings, Settings
from tests.integration.notifications.support import Receiver, Script, start_receiver


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    """Start receivers answering per a script; all are shut down after the test."""
    servers: list[tuple[ThreadingHTTPServer, Receiver]] = []

    def start(script: Script, delay: float = 0.0) -> Receiver:
        server, receiver = start_receiver(script, delay)
        servers.append((server, receiver))
        return receiver

    yield start
    for server, receiver in servers:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def outbox_settings(fresh_settings: Settings) -> Settings:
    """Settings on this test's own database: workers deliver whatever is due, so each test gets
    an outbox nobody else writes to instead of sweeping the shared one."""
    return fresh_settings


@pytest.fixture
async def outbox(outbox_settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on this test's own database for arranging and checking outbox rows."""
    engine = create_async_engine(outbox_settings.database.url, pool_size=5)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def make_worker(outbox_settings: Settings) -> AsyncIterator[Callable[..., Worker]]:
    """Build workers, each on its own engine as a separate process would be; closed afterwards."""
    opened: list[tuple[AsyncEngine, ChannelSet]] = []

    def build(notifications: NotificationSettings, **overrides: Any) -> Worker:
        engine = create_async_engine(outbox_settings.database.url, pool_size=2)
        channels = overrides.pop("channels", None) or build_channels(notifications)
        opened.append((engine, channels))
        return Worker.from_settings(make_sessionmaker(engine), channels, notifications, **overrides)

    yield build
    for engine, channels in opened:
        await channels.aclose()
        await engine.dispose()
