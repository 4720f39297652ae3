"""The bot fuzz's run: its users live side by side until the update budget is spent; then the answers, the
bot's log, its memory and the money are read and judged."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from testkit.bot_fuzz.checks import checks
from testkit.bot_fuzz.faults import FuzzUser
from testkit.bot_fuzz.money import credits, money_facts
from testkit.bot_fuzz.plan import BotFuzzPlan
from testkit.bot_fuzz.report import BotFuzzReport, build_report, read_log
from testkit.bot_fuzz.state import Run
from testkit.bot_fuzz.watch import CallWatch
from testkit.harness import Harness


async def run_bot_fuzz(
    h: Harness, plan: BotFuzzPlan, *, say: Callable[[str], None] = lambda _t: None
) -> BotFuzzReport:
    began = time.monotonic()
    log_path = Path(h.stack.data_dir) / "logs" / "bot.log"
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    watch = CallWatch(h, await _last_call_seq(h))
    run = Run(h, plan, watch)
    base = 5_000_000_000 + (plan.seed % 100_000) * 1000
    run.users = [base + i for i in range(plan.users)]
    if run.admin is not None:
        run.users.append(run.admin)
    rngs = {u: random.Random(f"{plan.seed}:{u}") for u in run.users}
    # A user with a stored language and one the bot meets for the first time, in turn.
    for index, user in enumerate(run.users):
        if index % 2 == 0:
            await h.new_user(credits=0, user_id=user)
    credits_before = await credits(h, run.users)
    watcher = asyncio.create_task(watch.run())
    rss_before = h.rss_mb("bot")

    async def sample_rss() -> None:
        nonlocal rss_before
        await run.warm.wait()
        await asyncio.sleep(1.0)
        rss_before = h.rss_mb("bot")

    sampler = asyncio.create_task(sample_rss())
    say(f"bot fuzz: {plan.updates} updates from {len(run.users)} users")
    users = [FuzzUser(run, u, rngs[u]) for u in run.users]
    tasks = []
    for index, user in enumerate(users):
        tasks.append(asyncio.create_task(_guard(user.live(index))))
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    sent_seconds = time.monotonic() - began
    say(f"bot fuzz: {len(run.sent)} updates sent in {sent_seconds:.0f} s; settling")
    # Unanswered ones get a last chance; then money: the forged payments' top-up workflows must have closed.
    await watch.wait(lambda: all(watch.answered(s) for s in run.sent if s.expect), plan.answer_timeout)
    for sent in run.sent:
        if sent.expect and not sent.answered:
            sent.answered = watch.answered(sent)
    for _ in range(60):
        if not await h.count('WorkflowType = "TopUpWorkflow" AND ExecutionStatus = "Running"'):
            break
        await asyncio.sleep(1)
    await asyncio.sleep(0.5)
    rss_after = h.rss_mb("bot") if h.alive("bot") else float("nan")
    watch.stopped = True
    watcher.cancel()
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    money = await money_facts(h, run, credits_before)
    errors, warnings = read_log(log_path, log_offset)
    pending = [
        u for u in (await h.telegram_get("/_sim/updates"))["updates"] if _update_user(u) in set(run.users)
    ]
    report = build_report(
        run, money, errors, warnings, rss_before, rss_after, h.alive("bot"), began, sent_seconds
    )
    report.money["pending_updates_left"] = len(pending)
    report.checks = checks(report, plan, run)
    return report


async def _guard(coro: Any) -> None:
    try:
        await coro
    except (aiohttp.ClientError, TimeoutError):  # the simulator went away: the checks will say so
        pass


async def _last_call_seq(h: Harness) -> int:
    calls = await h.telegram_calls(after=0)
    return calls[-1]["seq"] if calls else 0


def _update_user(update: dict[str, Any]) -> int | None:
    for value in update.values():
        if isinstance(value, dict):
            sender = value.get("from") or {}
            return sender.get("id")
    return None
