"""Two replicas of every process behind nginx (``python -m genflow.stack --replicas 2``): Telegram's updates
and KIE's callbacks go round-robin through the proxy, a user's consecutive updates land on different bot
replicas and the form carries on; a bot replica killed in the middle of a form costs the user nothing; and a
rolling restart of every process (SIGTERM, one replica of each kind at a time) while generations run shows
Telegram and KIE not one error."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest

from contracts.buttons import FormAction, FormOp, Generate, Menu, MenuTarget, ModelCard, StartForm
from contracts.models import GenerationResult, Outcome
from testkit.chat_user import ChatUser, media_messages
from testkit.harness import Harness
from tests.fixtures.postgres import create_database

PROCESSES = ("worker", "telegram-worker", "webhooks", "bot")


@pytest.fixture(scope="module")
async def h(pg_server_url: str) -> AsyncIterator[Harness]:
    _, database_url = await create_database(pg_server_url, "replicas")
    async with Harness.start(
        prefix="genflow-replicas-test-",
        processes=PROCESSES,
        database_url=database_url,
        replicas=2,
        keep=bool(os.environ.get("GENFLOW_KEEP_STACK")),
        # A test user taps faster than a person: the flood limit (per replica) would drop taps.
        extra_env={"BOT_FLOOD_RATE_PER_SECOND": "200", "BOT_FLOOD_BURST": "1000"},
    ) as harness:
        yield harness


def upstream_port(delivery: dict[str, Any]) -> int:
    # nginx lists every replica it tried ("a:1, b:2" after a refused connection): the last one answered.
    return int(delivery["upstream"].split(",")[-1].strip().rsplit(":", 1)[1])


async def generate_through_the_bot(user: ChatUser, prompt: str, *, between: Any = None) -> None:
    """Menu → Create → nano-banana → its form → Generate; ``between`` runs after the form opened."""
    await user.send("/menu")
    await user.press(Menu(to=MenuTarget.CREATE))
    await user.find_model("text-to-image", "nano-banana")
    await user.press(ModelCard(code="nano-banana"))
    await user.press(StartForm(code="nano-banana"))
    if between is not None:
        await between()
    await user.send(prompt)
    await user.press_for(FormAction, op=FormOp.GENERATE)
    await user.press_for(Generate)


@pytest.mark.timeout(180)
async def test_a_users_updates_spread_over_both_bots_and_a_killed_one_costs_nothing(h: Harness) -> None:
    user = ChatUser(h, await h.new_user(credits=100))
    bot_ports = {int(r.env["BOT_PORT"]) for r in h.stack.children if r.name.startswith("bot-")}

    async def kill_bot_1() -> None:
        os.killpg(h.pid("bot-1"), signal.SIGKILL)  # mid-form: the FSM is in PostgreSQL

    await generate_through_the_bot(user, "a lighthouse at dawn", between=kill_bot_1)
    messages = await user.wait_for(lambda m: bool(media_messages(m)), within=60)
    assert "4 credits" in (media_messages(messages)[-1]["caption"] or "")
    await asyncio.to_thread(h.stack.start_child, "bot-1")

    deliveries = [d for u in user.sent for d in await user.deliveries(u)]
    # Every update delivered on the first attempt, accepted: the proxy took the dead replica's share to the
    # other one before Telegram saw anything.
    assert [(d["attempt"], d["status"]) for d in deliveries] == [(1, 200)] * len(user.sent)
    assert {upstream_port(d) for d in deliveries} == bot_ports  # both replicas served this one user
    claims = await h.pool.fetch(
        "SELECT claims, duplicates, done_at FROM bot_updates WHERE update_id = ANY($1)", user.sent
    )
    assert len(claims) == len(user.sent)
    assert all((c["claims"], c["duplicates"]) == (1, 0) and c["done_at"] for c in claims)
    balance = await h.pool.fetchrow("SELECT balance, held FROM accounts WHERE user_id = $1", user.id)
    assert (balance["balance"], balance["held"]) == (96, 0)


@pytest.mark.timeout(300)
async def test_a_rolling_restart_of_every_process_shows_telegram_and_kie_no_error(h: Harness) -> None:
    await h.kie_config(latency=6.0, latency_jitter=2.0, failure_share=0.0, callback_lost_share=0.0)
    users = [ChatUser(h, await h.new_user(credits=1_000)) for _ in range(3)]
    handles = [
        await h.generate(user.id, "google/nano-banana", {"prompt": f"a calm sea #{i}"})
        for i, user in enumerate(users * 3)
    ]
    restarting = asyncio.Event()

    async def chatting(user: ChatUser) -> None:  # users keep talking to the bots all along
        while not restarting.is_set():
            await user.send("/balance")
            await asyncio.sleep(0.5)

    talk = [asyncio.create_task(chatting(user)) for user in users]
    try:
        for index in (1, 2):  # one replica of each kind at a time, the kinds side by side
            await asyncio.gather(*(restart(h, f"{process}-{index}") for process in PROCESSES))
    finally:
        restarting.set()
        await asyncio.gather(*talk)
    results = [await handle.result() for handle in handles]
    assert all(
        isinstance(r, GenerationResult) and r.outcome == Outcome.SUCCEEDED and r.delivered for r in results
    )

    sent = [u for user in users for u in user.sent]
    deliveries = [d for user in users for u in user.sent for d in await user.deliveries(u)]
    assert len(sent) > 20
    assert [d for d in deliveries if d["error"] is not None or d["attempt"] > 1] == []
    callbacks = await kie_callback_answers(h, {handle.id for handle in handles})
    assert callbacks and set(callbacks) == {200}, callbacks


async def restart(h: Harness, name: str) -> None:
    """SIGTERM (the replica drains), start it again, and wait until it serves."""
    await asyncio.to_thread(h.stack.stop_child, name)
    await asyncio.to_thread(h.stack.start_child, name)
    await h.wait_ready(name)


async def kie_callback_answers(h: Harness, workflow_ids: set[str]) -> list[int | None]:
    """The status of every callback attempt KIE made for these generations."""
    statuses: list[int | None] = []
    for summary in (await h.kie_get("/_sim/tasks"))["tasks"]:
        details = await h.kie_task(summary["taskId"])
        url = (details or {}).get("callBackUrl") or ""
        if url.split("/kie/callback/", 1)[-1].split("?", 1)[0] in workflow_ids:
            statuses += [record["status"] for record in details["callbacks"]]  # type: ignore[index]
    return statuses
