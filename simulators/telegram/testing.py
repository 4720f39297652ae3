"""Helpers for tests that drive a real aiogram Bot against the simulator."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from .config import SimulatorConfig
from .simulator import TelegramSimulator

TEST_TOKEN = "7000000001:SIM-test-token"


@asynccontextmanager
async def running_simulator(config: SimulatorConfig | None = None) -> AsyncIterator[TelegramSimulator]:
    simulator = TelegramSimulator(config or SimulatorConfig(token=TEST_TOKEN))
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


def bot_for(simulator: TelegramSimulator, token: str = TEST_TOKEN) -> Bot:
    """A real aiogram Bot whose HTTP session talks to the simulator (close its session when done)."""
    # Bot(api_server=...) doesn't exist: the server goes into the session.
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(simulator.url)))


def make_png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A valid solid-colour PNG, without Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@asynccontextmanager
async def serve_files(files: Mapping[str, tuple[bytes, str]]) -> AsyncIterator[str]:
    """A tiny HTTP server for ``{path: (body, content_type)}`` on a free port; yields its base URL.

    Other paths answer 404 (what a dead CDN link looks like to Telegram).
    """

    async def handle(request: web.Request) -> web.Response:
        found = files.get(request.path)
        if found is None:
            raise web.HTTPNotFound()
        body, content_type = found
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def shape_differences(actual: object, expected: object, path: str = "$") -> list[str]:
    """Where ``actual`` differs from ``expected`` in structure: keys and value types, not values.

    Lists compare their first items, so a 3-size photo matches a 4-size fixture.
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {type(actual).__name__}"]
        problems = (
            [f"{path}: keys differ: {sorted(actual)} vs {sorted(expected)}"]
            if set(actual) != set(expected)
            else []
        )
        for key in expected.keys() & actual.keys():
            problems += shape_differences(actual[key], expected[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or not actual:
            return [f"{path}: expected a non-empty list"]
        return shape_differences(actual[0], expected[0], f"{path}[0]") if expected else []
    if type(actual) is not type(expected):
        return [f"{path}: {type(actual).__name__} instead of {type(expected).__name__}"]
    return []
