"""The bot's tests: the Dispatcher running in-process against the whole system (``running``), and a user
who talks to it through the simulator (``harness``).

Every update is tracked: a test waits for the dispatcher to have handled what it sent, and the harness fails
the test if any update raised or anything was logged as an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from genflow.embedded import stop_process
from tests.bot.harness import Chat, Harness, User, buttons, key_of, media_messages, new_user_id
from tests.bot.running import WAIT, ErrorLog, RunningBot, bot_settings, start_bot
from tests.fixtures.system import System

# What the bot's test modules import from here.
__all__ = [
    "WAIT",
    "Chat",
    "Harness",
    "RunningBot",
    "User",
    "bot_settings",
    "buttons",
    "key_of",
    "media_messages",
    "new_user_id",
    "start_bot",
]


@pytest.fixture(scope="session")
async def only_poller(system: System) -> None:
    """The bot under test must be the simulator's only poller: were a bot process part of the system's stack,
    the two would take each other's updates (409 Conflict). It is stopped for this suite."""
    for child in [c for c in system.stack.children if c.name == "bot"]:
        if child.process is not None:
            await asyncio.to_thread(stop_process, child.process)
        system.stack.children.remove(child)


@pytest.fixture(scope="package")
async def fast_kie(system: System) -> AsyncIterator[None]:
    """Generations that take a fraction of a second while this suite runs, so it stays short."""
    await system.kie_config(latency=0.3, latency_jitter=0.05, slow_latency=4.0)
    yield
    await system.kie_config(latency=1.0, latency_jitter=0.2, slow_latency=20.0)


@pytest.fixture
def bot_overrides() -> dict[str, Any]:
    """Settings a test module wants different (override the fixture)."""
    return {}


@pytest.fixture
async def harness(
    system: System, only_poller: None, fast_kie: None, bot_overrides: dict[str, Any]
) -> AsyncIterator[Harness]:
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    harness = Harness(system, bot_overrides)
    await harness.start(drop_pending=True)
    try:
        yield harness
    finally:
        await harness.stop()
        logging.getLogger().removeHandler(errors)
    assert len(errors.records) == harness.expected_errors, [r.getMessage() for r in errors.records]
