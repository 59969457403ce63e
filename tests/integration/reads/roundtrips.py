"""A TCP proxy in front of PostgreSQL that counts round trips, whatever the driver does.

A round trip is the client writing after it has heard from the server (or first): pipelined
messages sent in one go (asyncpg's Parse/Bind/Execute/Sync) count once, a BEGIN, a pre-ping, a
PREPARE or a COMMIT each count, exactly as they cost on a network.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field


@dataclass
class RoundTripProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL and counts client turns over all connections."""

    upstream_host: str
    upstream_port: int
    round_trips: int = 0
    port: int = 0
    # Local ports of the proxy's connections to PostgreSQL (pg_stat_activity.client_port).
    upstream_ports: set[int] = field(default_factory=set)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every forwarded connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self.upstream_host, self.upstream_port
        )
        self.upstream_ports.add(upstream_writer.get_extra_info("sockname")[1])
        # Per connection: has the server spoken since the client last wrote?
        state = {"server_spoke": True}

        async def pump(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, client: bool
        ) -> None:
            # Whatever ends one direction (EOF, a reset from a terminated backend) closes both
            # sockets, as a real network path would; a pump that died silently would leave the
            # other side waiting forever on a half-open connection.
            try:
                while data := await source.read(65536):
                    if client and state["server_spoke"]:
                        self.round_trips += 1
                        state["server_spoke"] = False
                    elif not client:
                        state["server_spoke"] = True
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                for end in (writer, upstream_writer):
                    end.close()

        for direction in (
            pump(reader, upstream_writer, client=True),
            pump(upstream_reader, writer, client=False),
        ):
            task = asyncio.create_task(direction)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


@contextmanager
def counting_proxy(host: str, port: int) -> Iterator[RoundTripProxy]:
    """The proxy on its own event loop in a thread, so a blocking test cannot stall it."""
    proxy = RoundTripProxy(host, port)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
