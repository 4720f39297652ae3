"""Injected faults reach aiogram as its real exception classes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)

from simulators.telegram import Fault, FloodLimits, SimulatorConfig, TelegramSimulator
from simulators.telegram.testing import TEST_TOKEN, bot_for, running_simulator

USER = 123456789
FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot]]:
    async with running_simulator() as simulator:
        client = bot_for(simulator)
        yield simulator, client
        await client.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot]) -> TelegramSimulator:
    simulator = running[0]
    simulator.reset()
    simulator.add_user(USER, first_name="Test")
    return simulator


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot], sim: TelegramSimulator) -> Bot:
    return running[1]


async def test_queued_429_carries_retry_after(sim: TelegramSimulator, bot: Bot) -> None:
    sim.queue_fault(429, method="sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "hi")
    assert caught.value.retry_after == 7
    assert (await bot.send_message(USER, "hi")).text == "hi"  # one-shot: the retry goes through
    expected = json.loads((FIXTURES / "response__error_429_retry_after.json").read_text())
    assert Fault(429, retry_after=7).error().envelope() == expected
    assert [(c.ok, c.fault) for c in sim.calls_to("sendMessage")] == [(False, "queued"), (True, None)]


async def test_blocked_user_answer_matches_the_fixture(sim: TelegramSimulator, bot: Bot) -> None:
    sim.block(USER)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_photo(USER, "AgACAgIAAxkBAAany")
    expected = json.loads((FIXTURES / "response__error_403_bot_blocked.json").read_text())
    call = sim.calls_to("sendPhoto")[0]
    assert {"ok": call.ok, "error_code": call.error_code, "description": call.description} == expected


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(500), TelegramServerError),
        (Fault(403), TelegramForbiddenError),
        (Fault(400, description="chat not found"), TelegramBadRequest),
        (Fault(413), TelegramEntityTooLarge),
    ],
)
async def test_status_codes_map_to_aiogram_errors(
    sim: TelegramSimulator, bot: Bot, fault: Fault, error: type[Exception]
) -> None:
    sim.engine.faults.queue(fault)
    with pytest.raises(error):
        await bot.send_message(USER, "hi")


async def test_html_502_from_a_proxy_is_a_decode_error(sim: TelegramSimulator, bot: Bot) -> None:
    sim.queue_fault(502, html=True)
    with pytest.raises(ClientDecodeError) as caught:
        await bot.send_message(USER, "hi")
    assert not isinstance(caught.value, TelegramAPIError)  # not an API error: no status classification
    assert "502 Bad Gateway" in caught.value.data


async def test_faults_can_target_one_chat(sim: TelegramSimulator, bot: Bot) -> None:
    sim.queue_fault(429, chat_id=USER, retry_after=3)
    assert (await bot.send_message(777, "other chat")).chat.id == 777
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "hi")


async def test_delivered_but_failed_answer(sim: TelegramSimulator, bot: Bot) -> None:
    """The message is sent, but the client sees a 5xx: a retry would duplicate it."""
    sim.queue_fault(500, method="sendMessage", deliver=True)
    with pytest.raises(TelegramServerError):
        await bot.send_message(USER, "once")
    assert [m.text for m in sim.chat(USER).messages] == ["once"]


async def test_seeded_chaos_is_reproducible(sim: TelegramSimulator, bot: Bot) -> None:
    async def run() -> list[str]:
        sim.reset()
        sim.set_chaos([(0.3, Fault(429, retry_after=1)), (0.2, Fault(502))], seed=42)
        outcomes = []
        for i in range(30):
            try:
                await bot.send_message(USER, f"m{i}")
                outcomes.append("ok")
            except TelegramAPIError as error:
                outcomes.append(type(error).__name__)
        return outcomes

    first, second = await run(), await run()
    assert first == second
    assert {"ok", "TelegramRetryAfter", "TelegramServerError"} <= set(first)


async def test_faults_over_the_control_api(sim: TelegramSimulator, bot: Bot) -> None:
    async with aiohttp.ClientSession() as http:
        body = {
            "faults": [{"error_code": 429, "retry_after": 2, "method": "sendMessage"}, {"error_code": 503}]
        }
        async with http.post(f"{sim.url}/_sim/faults", json=body) as response:
            assert (await response.json())["queued"] == 2
        async with http.get(f"{sim.url}/_sim/faults") as response:
            assert len((await response.json())["queued"]) == 2
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "a")
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    assert (await bot.get_me()).username == "genflow_local_bot"


async def test_flood_control_when_configured() -> None:
    config = SimulatorConfig(token=TEST_TOKEN, flood=FloodLimits(per_chat_rate=1, per_chat_burst=2))
    async with running_simulator(config) as simulator:
        client = bot_for(simulator)
        try:
            await client.send_message(USER, "1")
            await client.send_message(USER, "2")
            with pytest.raises(TelegramRetryAfter) as caught:
                await client.send_message(USER, "3")
            assert caught.value.retry_after >= 1
            assert (await client.send_message(USER + 1, "another chat")).text == "another chat"
        finally:
            await client.session.close()
