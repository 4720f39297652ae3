"""A TCP link between the load balancer and one replica that a test can cut: every open connection is reset
and new ones are refused for a while, as when the network between the two drops (the replica itself keeps
running, and may still be handling what it received)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

CHUNK = 65536


class Link:
    def __init__(self, port: int, target: Callable[[], int]) -> None:
        self.port = port
        self.target = target  # the replica's port, read at each connection (it keeps it across restarts)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._down_until = 0.0
        self.connections = 0
        self.reset = 0  # connections cut while open
        self.refused = 0  # connections refused while down

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._cut_open()
            await self._server.wait_closed()

    def cut(self, seconds: float) -> None:
        """Reset every open connection and refuse new ones for ``seconds``."""
        self._down_until = time.monotonic() + seconds
        self._cut_open()

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def _cut_open(self) -> None:
        for writer in list(self._open):
            self.reset += 1
            writer.transport.abort()
        self._open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            self.refused += 1
            writer.transport.abort()
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target())
        except OSError:
            writer.transport.abort()  # the replica is down: the proxy sees what it would see without us
            return
        self._open |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._open -= {writer, up_writer}
            for end in (writer, up_writer):
                if self.down:
                    end.transport.abort()
                else:
                    end.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
