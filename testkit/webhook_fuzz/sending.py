"""Sending a probe: through aiohttp, or written to the socket as is; the answer is the HTTP status."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from testkit.webhook_fuzz.forger import Probe


async def send(session: aiohttp.ClientSession, base: str, probe: Probe) -> str:
    """The HTTP status as text, or ``closed`` when the server dropped the connection without answering."""
    if probe.raw is not None:
        return await _send_raw(base, probe.raw)
    data: Any = probe.body
    if probe.chunked and probe.body is not None:
        payload = probe.body

        async def chunks():
            for i in range(0, len(payload), 64 * 1024):
                yield payload[i : i + 64 * 1024]

        data = chunks()
    try:
        async with session.request(
            probe.method,
            base + probe.path,
            data=data,
            headers=probe.headers,
            skip_auto_headers={"Content-Type"},
        ) as response:
            await response.read()
            return str(response.status)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError):
        return "closed"


async def _send_raw(base: str, raw: bytes) -> str:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(raw)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=10)
    except (ConnectionError, TimeoutError):
        return "closed"
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
    parts = line.split()
    return parts[1].decode() if len(parts) >= 2 and parts[1].isdigit() else "closed"
