"""The bot's own observability, as `make run` and production run it (``bot.app.run``): /healthz, /readyz and
/metrics on BOT_PORT in long-polling mode, every update counted; the admins' command menu set at start."""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bot.app import run
from genflow.embedded import free_port
from tests.bot.conftest import bot_settings, new_user_id
from tests.fixtures.system import System


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


async def test_polling_bot_serves_health_readiness_and_metrics(system: System, only_poller: None):
    port = free_port()
    admin_id = new_user_id()
    settings = bot_settings(
        system,
        temporal_address=f"127.0.0.1:{system.stack.ports.temporal}",
        bot_port=port,
        admin_ids=[admin_id],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    base = f"http://127.0.0.1:{port}"
    http = system.http
    try:
        for _ in range(200):
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            assert not task.done(), task
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the bot never became ready")
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200 and (await response.json())["ok"] is True

        user_id = new_user_id()
        async with http.post(f"{system.telegram}/_sim/users/{user_id}/message", json={"text": "/start"}) as r:
            assert r.status == 200
        for _ in range(200):
            chat = await system.chat(user_id)
            if any(
                "What shall we do?" in (m["text"] or "") for m in chat["messages"] if m["sender"] == "bot"
            ):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the bot did not answer /start")

        for _ in range(50):  # counted once the update's handling has returned
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                metrics = await response.text()
            if sample(metrics, "genflow_bot_updates_total", kind="message", outcome="handled"):
                break
            await asyncio.sleep(0.05)
        assert sample(metrics, "genflow_bot_updates_total", kind="message", outcome="handled") == 1.0
        assert sample(metrics, "genflow_bot_update_duration_seconds_count", kind="message") == 1.0
        assert sample(metrics, "genflow_ready", process="bot") == 1.0
        assert sample(metrics, "genflow_http_requests_total", process="bot", route="/readyz", status="200")

        async with http.get(f"{system.telegram}/_sim/calls?method=setMyCommands") as response:
            calls = (await response.json())["calls"]
        scoped = [c for c in calls if (c["params"].get("scope") or {}).get("chat_id") == admin_id]
        assert len(scoped) == 2 and all(
            "admin" in [x["command"] for x in c["params"]["commands"]] for c in scoped
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    try:
        async with http.get(f"{base}/healthz") as response:
            raise AssertionError(f"still serving after stop: {response.status}")
    except aiohttp.ClientError:
        pass  # closed
