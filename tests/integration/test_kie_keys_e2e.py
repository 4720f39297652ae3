"""A queued user sees their place in the chat, through the real bot: the confirmation card warns of the wait
before they pay, and the status message says how many are ahead.

Several KIE accounts through the real processes: submits spread over the keys within each key's own
limit (the simulator answers 429 above it), a status check goes to the key that made the task (another
account's task is 404 on KIE), queued generations say where they stand, and a key that runs out of credits
mid-run (402) leaves the rotation with one alert while the other key carries the rest. Nothing lost,
nothing charged twice."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from catalog import get_catalog
from contracts.buttons import (
    FormAction,
    FormatModels,
    FormOp,
    Generate,
    GenerationAction,
    GenerationOp,
    Menu,
    MenuTarget,
    ModelCard,
    StartForm,
)
from contracts.models import Outcome
from db import KieKeys
from genflow.stack import Ports, Stack, simulated_settings
from kie.accounts import key_id
from testkit.keyboards import buttons
from tests.fixtures.buttons import matches
from tests.fixtures.postgres import create_database
from tests.fixtures.system import System, finished, running_system

CATALOG = get_catalog()
KEYS = ("kie-account-a", "kie-account-b")
ADMIN = 777_000


@pytest.fixture(scope="module")
async def two_keys(pg_server_url: str) -> AsyncIterator[System]:
    _, database_url = await create_database(pg_server_url, "keys")
    data_dir = Path(tempfile.mkdtemp(prefix="genflow-keys-", dir="/tmp"))
    # One new task per 2 s per account: a dozen generations make a queue of several seconds.
    settings = simulated_settings(database_url, kie_rate_limit_tasks=1, kie_rate_limit_period_seconds=2.0)
    env = {
        "KIE_API_KEY": "",
        "KIE_API_KEYS": ",".join(KEYS),
        "KIE_RATE_LIMIT_TASKS": "1",
        "KIE_RATE_LIMIT_PERIOD_SECONDS": "2",
        "ADMIN_IDS": str(ADMIN),
        "QUEUE_WARN_SECONDS": "3",
        # The test clicks faster than a person: the flood limit would (rightly) slow it down.
        "BOT_FLOOD_BURST": "50",
        "BOT_FLOOD_RATE_PER_SECOND": "20",
    }
    stack = Stack(
        data_dir,
        ports=Ports.free(),
        settings=settings,
        quiet=True,
        extra_env=env,
        processes=("worker", "telegram-worker", "webhooks", "bot"),
    )
    async with running_system(stack, database_url) as system:
        yield system


async def bot_message(system: System, user: int, match, within: float = 15.0) -> dict:
    """The newest bot message in the user's chat (as edited so far) that ``match`` accepts."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        for message in reversed((await system.chat(user))["messages"]):
            if message["sender"] == "bot" and match(message):
                return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"no such bot message in chat {user}: {(await system.chat(user))['messages'][-3:]}")


async def user_does(system: System, user: int, path: str, body: dict) -> None:
    async with system.http.post(f"{system.telegram}/_sim/users/{user}/{path}", json=body) as response:
        assert response.status == 200, await response.text()


async def press(system: System, user: int, data, within: float = 15.0) -> dict:
    """Press the newest button whose callback data ``data`` accepts; returns the message that had it."""
    message = await bot_message(system, user, lambda m: any(data(b) for b in buttons(m)), within)
    chosen = next(b for b in buttons(message) if data(b))
    await user_does(system, user, "callback", {"message_id": message["message_id"], "data": chosen})
    return message


@pytest.mark.timeout(120)
async def test_a_queued_user_is_warned_and_sees_their_place_in_the_chat(two_keys: System):
    system = two_keys
    others = [await system.new_user() for _ in range(8)]
    # A surge: 24 generations ahead, at 1 submit a second for both keys together.
    surge = [
        await system.generate(others[i % 8], "google/nano-banana", {"prompt": f"surge {i}"})
        for i in range(24)
    ]
    user = await system.new_user()
    model = CATALOG.get("google/nano-banana")
    await user_does(system, user, "message", {"text": "/start"})
    await press(system, user, lambda b: b == Menu(to=MenuTarget.CREATE).pack())
    await press(system, user, lambda b: b == FormatModels(format=model.format).pack())
    await press(system, user, lambda b: b == ModelCard(code=model.code).pack())
    await press(system, user, lambda b: b == StartForm(code=model.code).pack())
    await bot_message(system, user, lambda m: "rompt" in (m["text"] or ""))
    await user_does(system, user, "message", {"text": "a lighthouse at dawn"})
    await press(system, user, lambda b: matches(b, FormAction, op=FormOp.GENERATE))
    card = await bot_message(system, user, lambda m: any(matches(b, Generate) for b in buttons(m)))
    assert "Busy right now: it starts in" in card["text"], card["text"]  # said before paying
    await press(system, user, lambda b: matches(b, Generate))
    queued = await bot_message(system, user, lambda m: (m["text"] or "").startswith("🕒"), within=20)
    assert "Ahead of you:" in queued["text"] or "You are next." in queued["text"], queued["text"]
    # Still cancellable while queued.
    assert any(matches(b, GenerationAction, op=GenerationOp.CANCEL) for b in buttons(queued))
    done = await bot_message(system, user, lambda m: bool(m.get("media")), within=60)
    assert done is not None
    # Fair dispatch: the user's one generation did not wait for the whole surge to drain.
    descriptions = [await h.describe() for h in surge]
    assert any(d.close_time is None for d in descriptions)  # part of the surge still waits
    assert all(
        r.outcome == Outcome.SUCCEEDED for r in await asyncio.gather(*(finished(h, 90) for h in surge))
    )
    await system.assert_ledger_consistent()


async def kie_stats(system: System) -> dict[str, int]:
    async with system.http.get(f"{system.kie}/_sim/stats") as response:
        body = await response.json()
    return body.get("stats", body)


@pytest.mark.timeout(120)
async def test_two_keys_share_the_load_and_a_key_out_of_credits_leaves_the_rotation(two_keys: System):
    system = two_keys
    users = [await system.new_user() for _ in range(4)]
    before = await kie_stats(system)
    handles = [
        await system.generate(users[i % 4], "google/nano-banana", {"prompt": f"p{i}"}) for i in range(12)
    ]
    await asyncio.sleep(3.0)  # a few submits on each key, then one account runs dry
    await system.kie_config(exhausted_keys=[KEYS[1]])
    results = await asyncio.gather(*(finished(h, within=90) for h in handles))

    assert [r.outcome for r in results] == [Outcome.SUCCEEDED] * 12
    assert all(r.charged and r.delivered for r in results)
    await system.assert_ledger_consistent()
    stats = await kie_stats(system)
    assert stats.get("create_refused_429", 0) == 0, stats  # never above a key's limit
    a, b = key_id(KEYS[0]), key_id(KEYS[1])
    made = {k: stats.get(f"tasks_created_by_{k}", 0) - before.get(f"tasks_created_by_{k}", 0) for k in (a, b)}
    assert made[a] + made[b] == 12
    assert made[b] >= 1  # it served until it ran dry
    states = {s.key_id: s for s in await KieKeys(system.pool).states()}
    assert states[a].disabled_at is None and states[b].disabled_at is not None
    assert "402" in (states[b].disabled_reason or "")
    alerts = [m["text"] for m in (await system.chat(ADMIN))["messages"] if m["sender"] == "bot"]
    assert len(alerts) == 1 and b in alerts[0] and KEYS[1] not in alerts[0]  # once, by fingerprint only
    # The last generations waited their turn and were told where they stood.
    queued = []
    for user in users:
        texts = [m["text"] or "" for m in (await system.chat(user))["messages"] if m["sender"] == "bot"]
        queued += [t for t in texts if t.startswith("🕒")]
    assert queued and any("Ahead of you" in t for t in queued), queued
