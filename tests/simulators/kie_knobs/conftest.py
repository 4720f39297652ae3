"""A KIE simulator with a fixed seed and HMAC key, a callback receiver and an authorised client, for the
knob tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.testing import CallbackReceiver
from tests.simulators.kie_knobs.client import AUTH


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def sim() -> AsyncIterator[KieSimulator]:
    config = KieSimConfig(latency=0.1, latency_jitter=0, seed=99, webhook_hmac_key="k", callback_backoff=0.01)
    sim = KieSimulator(config)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session
