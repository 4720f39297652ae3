"""The stack `make run` starts, on free ports, for the browser tests of the local chat."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from db import create_pool
from genflow.stack import Ports, Stack, simulated_settings
from tests.fixtures.postgres import create_database


@pytest.fixture(scope="module")
async def stack(pg_server_url: str) -> AsyncIterator[tuple[Stack, asyncpg.Pool]]:
    _, database_url = await create_database(pg_server_url, "webchat")
    settings = simulated_settings(database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="genflow-webchat-", dir="/tmp"))
    running = Stack(
        data_dir,
        ports=Ports.free(),
        settings=settings,
        quiet=True,
        processes=("worker", "telegram-worker", "webhooks", "bot"),
        # A browser robot clicks faster than a person: the flood limit would (rightly) slow it down.
        extra_env={"BOT_FLOOD_BURST": "50", "BOT_FLOOD_RATE_PER_SECOND": "20"},
    )
    await asyncio.to_thread(running.start)
    pool = await create_pool(database_url, max_size=2)
    try:
        yield running, pool
    finally:
        await pool.close()
        await asyncio.to_thread(running.stop)
