"""Webhook mode: Telegram (a simulator of its own here, so the shared one keeps its poller) posts updates to
the bot's aiohttp app; the secret token is checked, /healthz, /readyz and /metrics answer, and an update whose
handling failed on a transient error is answered 500 and so delivered again; an update delivered twice is
handled once."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import asyncpg
import pytest

from bot.app import WEBHOOK_PATH, build_dispatcher, make_bot, run_webhook, webhook_secret
from bot.services import Services
from db import create_pool
from genflow.embedded import free_port
from genflow.metrics import HttpMetrics
from genflow.settings import Settings
from simulators.telegram import TelegramSimulator
from simulators.telegram.config import SimulatorConfig
from simulators.telegram.testing import TEST_TOKEN
from tests.bot.test_ops import sample
from tests.fixtures.system import System


async def wait_until(check, within: float = 15.0):
    deadline = asyncio.get_running_loop().time() + within
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return result


async def test_webhook_mode(system: System, monkeypatch: pytest.MonkeyPatch):
    simulator = TelegramSimulator(SimulatorConfig(token=TEST_TOKEN, webhook_retry_delays=(0.2,)))
    await simulator.start()
    port = free_port()
    settings = Settings(
        _env_file=None,
        database_url=system.stack.database_url,
        temporal_task_queue=system.stack.settings.temporal_task_queue,
        telegram_bot_token=TEST_TOKEN,
        telegram_api_base=simulator.url,
        telegram_webhook_url=f"http://127.0.0.1:{port}",
        bot_port=port,
    )
    pool = await create_pool(system.stack.database_url, max_size=5)
    services = Services.create(settings, system.client, pool)
    metrics = HttpMetrics("bot")
    dp = build_dispatcher(services, webhook=True, metrics=metrics)
    bot = make_bot(settings)
    stop = asyncio.Event()
    server = asyncio.create_task(run_webhook(dp, bot, settings, stop, metrics))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                try:
                    async with http.get(f"{base}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_until(healthy)
            info = await bot.get_webhook_info()
            assert info.url == base + WEBHOOK_PATH and "callback_query" in (info.allowed_updates or [])

            user_id = int(uuid.uuid4().int % 10**9) + 1000
            simulator.inject_message(user_id, "/start", first_name="Wes")

            async def answered() -> bool:
                return any("What shall we do?" in (m.text or "") for m in simulator.chat(user_id).from_bot())

            await wait_until(answered)

            # Without the secret, or with another one: refused, nothing handled.
            async with http.post(base + WEBHOOK_PATH, json={"update_id": 1}) as response:
                assert response.status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
            async with http.post(base + WEBHOOK_PATH, json={"update_id": 1}, headers=headers) as response:
                assert response.status == 401
            assert webhook_secret(settings) == webhook_secret(settings.model_copy())  # same on every replica

            # The database is unreachable for one update: 500, Telegram delivers it again, then it works.
            # What a restarting PostgreSQL raises, in turn: a connection lost, one terminated by its
            # shutdown (found by the replicated chaos run: the user was told "something went wrong"), the
            # same as asyncpg's protocol sometimes reports it, a connect refused while it starts.
            real = services.ledger.get_user
            failures = []
            errors = [
                asyncpg.PostgresConnectionError("connection lost"),
                asyncpg.AdminShutdownError("terminating connection due to administrator command"),
                asyncpg.InternalClientError("cannot switch to state 12; another operation is in progress"),
                asyncpg.CannotConnectNowError("the database system is starting up"),
            ]

            async def flaky(uid: int):
                if len(failures) < len(errors):
                    failures.append(uid)
                    raise errors[len(failures) - 1]
                return await real(uid)

            monkeypatch.setattr(services.ledger, "get_user", flaky)
            simulator.inject_message(user_id, "/help")

            async def helped() -> bool:
                return any("How it works" in (m.text or "") for m in simulator.chat(user_id).from_bot())

            await wait_until(helped)
            assert failures == [user_id] * len(errors)
            help_calls = [m for m in simulator.chat(user_id).from_bot() if "How it works" in (m.text or "")]
            assert len(help_calls) == 1

            # The same update delivered twice (an answer lost on the way back, or a retry through the load
            # balancer to another replica): handled once, the second delivery answered 200 without handling.
            update_id = 7_000_000_000 + user_id
            update = {
                "update_id": update_id,
                "message": {
                    "message_id": 900,
                    "date": 1_700_000_000,
                    "chat": {"id": user_id, "type": "private", "first_name": "Wes"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "Wes"},
                    "text": "/balance",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
                },
            }
            headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(settings)}
            for _ in range(2):
                async with http.post(base + WEBHOOK_PATH, json=update, headers=headers) as response:
                    assert response.status == 200
            balances = [m for m in simulator.chat(user_id).from_bot() if "Available:" in (m.text or "")]
            assert len(balances) == 1, [m.text for m in simulator.chat(user_id).from_bot()]
            row = await pool.fetchrow(
                "SELECT claims, duplicates, done_at FROM bot_updates WHERE update_id = $1", update_id
            )
            assert (row["claims"], row["duplicates"]) == (1, 1) and row["done_at"] is not None

            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200
            async with http.get(f"{base}/metrics") as response:
                text = await response.text()
            assert sample(text, "genflow_bot_updates_total", kind="message", outcome="handled") == 3.0
            assert sample(text, "genflow_bot_updates_total", kind="message", outcome="failed") == len(errors)
            assert sample(text, "genflow_ready", process="bot") == 1.0
            route = WEBHOOK_PATH
            assert sample(text, "genflow_http_requests_total", route=route, status="500") == len(errors)
            assert sample(text, "genflow_http_requests_total", route=route, status="401") == 2.0
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)
        await bot.session.close()
        await pool.close()
        await simulator.stop()
