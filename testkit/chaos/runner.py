"""The chaos run: generations started over time and in a surge, worker kills, a PostgreSQL restart, a KIE key
revoked, a Stars burst beside it; then everything settles and :func:`testkit.chaos.checks.check` judges."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from contracts.models import GenerationResult
from kie.accounts import key_id
from testkit.chaos.chains import settle_recipes, start_recipes
from testkit.chaos.checks import check
from testkit.chaos.forms import walk_forms
from testkit.chaos.payments import pay_burst
from testkit.chaos.plan import CHAOS_KIE_KEYS, MIX, ChaosPlan, Run
from testkit.chaos.replicas import cut_bot_link, kill_one_of_each, restart_temporal
from testkit.checks import Check
from testkit.harness import Harness


async def run_chaos(h: Harness, plan: ChaosPlan, *, say=print) -> tuple[Run, list[Check], dict[str, Any]]:
    rng = random.Random(plan.seed)
    run = Run(plan=plan)
    previous_kie = await h.kie_get("/_sim/config")
    await h.kie_config(**plan.kie, seed=plan.seed)
    faults = {"seed": plan.seed, "rules": plan.telegram_rules, "methods": plan.telegram_methods}
    await h.telegram_post("/_sim/faults/chaos", faults)
    try:
        run.users = [await h.new_user(credits=plan.credits_per_user) for _ in range(plan.users)]
        run.blocked_user = run.users[0]
        await h.telegram_post(f"/_sim/users/{run.blocked_user}/block")
        models = [m for m, _, w in MIX for _ in range(w)]
        inputs = {m: i for m, i, _ in MIX}
        orders = [(run.users[i % plan.users], rng.choice(models)) for i in range(plan.generations)]
        run.began = time.time()
        disruptions = asyncio.create_task(_disrupt(h, plan, run, say))
        payments = asyncio.create_task(pay_burst(h, plan, run, say))
        surge = asyncio.create_task(_surge(h, plan, run, say))
        chains = asyncio.create_task(start_recipes(h, plan, run, say))
        forms = asyncio.create_task(walk_forms(h, plan, run, say))
        gap = plan.start_seconds / max(1, plan.generations)
        starts = []
        for index, (user, model) in enumerate(orders):
            starts.append(asyncio.create_task(_start(h, user, model, inputs[model], index, run)))
            await asyncio.sleep(gap)
        await asyncio.gather(*starts)
        say(f"{len(run.ids)} generations started in {time.time() - run.began:.0f} s")
        await disruptions
        await payments
        await surge
        await chains
        await forms
        await settle_recipes(h, plan, run)
        await _settle(h, plan, run, say)
    finally:
        await h.telegram_post("/_sim/faults/chaos", {"rules": []})
        await h.http.delete(f"{h.telegram}/_sim/faults")
        await h.telegram_post(f"/_sim/users/{run.blocked_user}/unblock")
        await h.kie_config(
            **{k: v for k, v in previous_kie.items() if k in plan.kie or k in ("seed", "revoked_keys")}
        )
    checks, facts = await check(h, run)
    return run, checks, facts


async def _start(h: Harness, user: int, model: str, inputs: dict[str, Any], index: int, run: Run) -> None:
    # Starting is the bot's job; it retries a start that failed (the id makes the retry safe).
    key = f"chaos{run.began:.0f}n{index}"
    for attempt in range(60):
        try:
            handle = await h.generate(user, model, inputs, key=key)
        except RPCError:
            await asyncio.sleep(min(5, 0.2 * (attempt + 1)))
            continue
        run.ids.append(handle.id)
        return
    raise RuntimeError(f"could not start generation {key}")


async def _surge(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    """Many generations at once (a post in a big channel), on top of the steady ones."""
    if not plan.surge:
        return
    await asyncio.sleep(max(0.0, plan.surge_at - (time.time() - run.began)))
    before = len(run.ids)
    await asyncio.gather(
        *(
            _start(
                h,
                run.users[1 + i % (plan.users - 1)],
                "google/nano-banana",
                {"prompt": f"surge {i}"},
                10**6 + i,
                run,
            )
            for i in range(plan.surge)
        )
    )
    run.surge_ids = run.ids[before:]
    say(f"surge: {plan.surge} generations started at +{plan.surge_at:.0f} s")


async def _disrupt(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    if plan.replicas > 1:
        # Replica kills keep their own schedule: the next waits until the last one's replicas serve again
        # (two replicas of a kind down at once would be an outage, not a fault this run means to show).
        kills = [(t, "kill") for t in plan.worker_kills_at]
        await asyncio.gather(_events(h, plan, run, say, kills), _events(h, plan, run, say, _other(plan, h)))
    else:
        await _events(h, plan, run, say, [(t, "kill") for t in plan.worker_kills_at] + _other(plan, h))


def _other(plan: ChaosPlan, h: Harness) -> list[tuple[float, str]]:
    events = [(t, "temporal") for t in plan.temporal_restarts_at]
    events += [(t, "cut") for t in plan.link_cuts_at]
    if plan.revoke_key_at is not None:
        events.append((plan.revoke_key_at, "revoke"))
    if plan.postgres_restart_at is not None and h.postgres is not None:
        events.append((plan.postgres_restart_at, "postgres"))
    return events


async def _events(h: Harness, plan: ChaosPlan, run: Run, say, events: list[tuple[float, str]]) -> None:
    cuts: list[asyncio.Task[None]] = []  # a cut lasts a while; the events after it keep their times
    for at, what in sorted(events):
        delay = at - (time.time() - run.began)
        if delay > 0:
            await asyncio.sleep(delay)
        if what == "revoke":
            await h.kie_config(revoked_keys=[CHAOS_KIE_KEYS[1]])
            run.key_revoked_at = time.time() - run.began
            say(f"KIE revoked key {key_id(CHAOS_KIE_KEYS[1])} at +{run.key_revoked_at:.1f} s")
        elif what == "kill" and plan.replicas > 1:
            await kill_one_of_each(h, run, say)
        elif what == "temporal":
            await restart_temporal(h, plan, run, say)
        elif what == "cut":
            cuts.append(asyncio.create_task(cut_bot_link(h, plan, run, say)))
        elif what == "kill":
            if plan.kill_when_quiet:
                await _wait_quiet(h, run)
            # Both worker processes: workflows mid-replay and Telegram calls mid-delivery are cut off alike.
            await asyncio.to_thread(h.stack.restart, "worker", kill=True)
            await asyncio.to_thread(h.stack.restart, "telegram-worker", kill=True)
            run.kills.append(time.time() - run.began)
            say(f"worker and telegram-worker SIGKILLed at +{run.kills[-1]:.1f} s")
        else:
            assert h.postgres is not None
            down, up = await asyncio.to_thread(h.postgres.restart, plan.postgres_down_seconds)
            run.postgres_down.append((down - run.began, up - run.began))
            say(f"PostgreSQL down from +{down - run.began:.1f} s to +{up - run.began:.1f} s")
    await asyncio.gather(*cuts)


async def _wait_quiet(h: Harness, run: Run, within: float = 20) -> None:
    """Until no generation has an activity running (a kill then costs replays, not activity timeouts)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        busy = False
        for workflow_id in list(run.ids):
            try:
                description = await h.client.get_workflow_handle(workflow_id).describe()
            except RPCError:
                busy = True
                break
            if description.status != WorkflowExecutionStatus.RUNNING:
                continue
            pending = description.raw_description.pending_activities
            if any(a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED for a in pending):
                busy = True
                break
        if not busy:
            return
        await asyncio.sleep(0.2)


async def _settle(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    closed = await h.wait_closed(run.ids, within=plan.settle_timeout)
    for workflow_id, description in closed.items():
        run.statuses[workflow_id] = description.status.name if description.status else "?"
        if description.close_time is not None:
            run.durations[workflow_id] = (description.close_time - description.start_time).total_seconds()
    pending = set(run.ids) - closed.keys()
    for workflow_id in pending:
        run.statuses[workflow_id] = "RUNNING"
    run.settled_after = time.time() - run.began
    say(f"settled after {run.settled_after:.0f} s, {len(pending)} still running")
    for workflow_id in run.ids:
        if run.statuses.get(workflow_id) == "COMPLETED":
            handle = h.client.get_workflow_handle(workflow_id, result_type=GenerationResult)
            run.results[workflow_id] = await handle.result()
        else:
            run.results[workflow_id] = None
