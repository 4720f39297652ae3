"""`make chaos`: generations under faults everywhere — nothing lost, nothing twice.

KIE refuses creates (5xx, 429), loses create answers (the task exists, the client never hears of it), fails
generations, duplicates, loses, delays and reorders callbacks; Telegram answers 429 with ``retry_after`` and
5xx, and one user has blocked the bot; the worker is SIGKILLed several times and PostgreSQL is restarted while
generations run. The stack has two KIE keys: a surge of generations arrives at once, and KIE revokes one key
in the middle of it (its in-flight tasks are refunded, the other key carries the rest). Afterwards every
check in :func:`check` must hold; the table says which did not.

``python -m bench.chaos`` runs the full plan (and then the webhook fuzz of ``bench.fuzz`` on the same stack);
``tests/chaos`` runs a reduced plan inside ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from bench.harness import Check, Harness, buttons, failed, machine, print_checks, write_results
from contracts.models import GenerationResult, Outcome
from db import KieKeys, check_invariant
from kie.accounts import key_id

# (model, inputs, weight): mostly one-image generations, plus Suno (staged callbacks, two files, reorderable),
# text-to-speech (audio) and a video: deliveries go through sendPhoto, sendMediaGroup, sendAudio, sendVideo.
MIX: list[tuple[str, dict[str, Any], int]] = [
    ("google/nano-banana", {"prompt": "a red fox in the snow"}, 55),
    ("seedream/4.5-text-to-image", {"prompt": "a glass city", "aspect_ratio": "1:1", "quality": "basic"}, 15),
    (
        "suno/generate-music",
        {"prompt": "a calm piano piece", "customMode": False, "instrumental": True, "model": "V4_5"},
        15,
    ),
    ("elevenlabs/text-to-speech-turbo-2-5", {"text": "Hello there", "voice": "Rachel"}, 10),
    (
        "sora-2-text-to-video",
        {"prompt": "waves on a beach", "aspect_ratio": "landscape", "n_frames": "10"},
        5,
    ),
]


@dataclass
class ChaosPlan:
    generations: int = 300
    users: int = 50
    credits_per_user: int = 2_000
    start_seconds: float = 30.0  # generations start spread over this long
    worker_kills_at: list[float] = field(default_factory=lambda: [6.0, 18.0, 33.0])
    kill_when_quiet: bool = False  # reduced runs: kill once everything is waiting or closed
    postgres_restart_at: float | None = 25.0
    postgres_down_seconds: float = 3.0
    seed: int = 20_261_122
    settle_timeout: float = 420.0
    # Stars top-ups through the real bot (needs the bot process), each update delivered 1 + duplicates times.
    payments: int = 0
    payment_duplicates: int = 2
    payment_package: str = "s50"
    # A surge: this many more generations started at once at ``surge_at``; KIE revokes the second of the
    # stack's keys (CHAOS_KIE_KEYS) at ``revoke_key_at``.
    surge: int = 100
    surge_at: float = 10.0
    revoke_key_at: float | None = 12.0
    kie: dict[str, Any] = field(
        default_factory=lambda: {
            # Shares are rolled independently, 429 first: 0.222 of the 90% left is 20% 5xx overall.
            "create_429_share": 0.10,
            "create_5xx_share": 0.222,
            "lost_answer_share": 0.05,
            "failure_share": 0.15,
            "callback_duplicate_share": 0.30,
            "callback_lost_share": 0.20,
            "callback_late_share": 0.10,
            "callback_late_delay": 4.0,
            "suno_out_of_order_share": 0.5,
            "latency": 1.5,
            "latency_jitter": 1.0,
        }
    )
    telegram_rules: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"share": 0.10, "error_code": 429, "retry_after": 1},
            {"share": 0.05, "error_code": 502},
        ]
    )


# The stack's KIE accounts (Harness extra_env KIE_API_KEYS): the second is revoked mid-surge.
CHAOS_KIE_KEYS = ("chaos-kie-account-a", "chaos-kie-account-b")
CHAOS_ENV = {"KIE_API_KEY": "", "KIE_API_KEYS": ",".join(CHAOS_KIE_KEYS)}


@dataclass
class Run:
    ids: list[str] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    blocked_user: int = 0
    began: float = 0.0
    kills: list[float] = field(default_factory=list)
    postgres_down: list[tuple[float, float]] = field(default_factory=list)
    temporal_down: list[tuple[float, float]] = field(default_factory=list)  # none in these plans
    results: dict[str, GenerationResult | None] = field(default_factory=dict)
    plan: ChaosPlan = field(default_factory=ChaosPlan)
    payers: list[int] = field(default_factory=list)
    payment_attempts: int = 0
    payment_failures: list[str] = field(default_factory=list)
    payment_steps: dict[str, int] = field(default_factory=dict)  # how each attempt ended
    surge_ids: list[str] = field(default_factory=list)
    key_revoked_at: float | None = None
    statuses: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)  # start to close, seconds
    settled_after: float = 0.0


# ---- the run
async def run_chaos(h: Harness, plan: ChaosPlan, *, say=print) -> tuple[Run, list[Check], dict[str, Any]]:
    rng = random.Random(plan.seed)
    run = Run(plan=plan)
    previous_kie = await h.kie_get("/_sim/config")
    await h.kie_config(**plan.kie, seed=plan.seed)
    await h.telegram_post("/_sim/faults/chaos", {"seed": plan.seed, "rules": plan.telegram_rules})
    try:
        run.users = [await h.new_user(credits=plan.credits_per_user) for _ in range(plan.users)]
        run.blocked_user = run.users[0]
        await h.telegram_post(f"/_sim/users/{run.blocked_user}/block")
        models = [m for m, _, w in MIX for _ in range(w)]
        inputs = {m: i for m, i, _ in MIX}
        orders = [(run.users[i % plan.users], rng.choice(models)) for i in range(plan.generations)]
        run.began = time.time()
        disruptions = asyncio.create_task(_disrupt(h, plan, run, say))
        payments = asyncio.create_task(_pay_burst(h, plan, run, say))
        surge = asyncio.create_task(_surge(h, plan, run, say))
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


async def _pay_burst(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    """Users top up with Stars through the bot at once; each successful payment arrives several times."""
    if not plan.payments:
        return
    run.payers = [await h.new_user(credits=0) for _ in range(plan.payments)]
    await asyncio.gather(*(_pay(h, plan, run, user) for user in run.payers))
    say(f"{plan.payments} Stars payments made ({run.payment_attempts} attempts)")


async def _pay(h: Harness, plan: ChaosPlan, run: Run, user: int) -> None:
    """What a user does: /topup, a package, Pay; again after a while when Telegram or the bot lost a step."""
    await h.http.put(f"{h.telegram}/_sim/users/{user}", json={"first_name": "Payer", "language_code": "en"})
    buy = f"topup:buy:{plan.payment_package}"

    def step(outcome: str) -> None:
        run.payment_steps[outcome] = run.payment_steps.get(outcome, 0) + 1

    for _attempt in range(12):
        run.payment_attempts += 1
        menu = await _send_and_wait(h, user, {"text": "/topup"}, lambda m: buy in buttons(m))
        if menu is None:
            step("no_menu")
            continue
        invoice = await _press_and_wait(h, user, menu["message_id"], buy)
        if invoice is None:
            step("no_invoice")
            continue
        async with h.http.post(
            f"{h.telegram}/_sim/users/{user}/pay",
            json={"message_id": invoice["message_id"], "duplicates": plan.payment_duplicates},
        ) as response:
            await response.read()
        # Paid once Telegram has the charge (the bot answered the pre-checkout query in time).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if await _sim_payments(h, [user]):
                step("paid")
                return
            await asyncio.sleep(0.5)
        step("not_charged")
    run.payment_failures.append(str(user))


async def _sim_payments(h: Harness, users: list[int]) -> list[dict[str, Any]]:
    answer = await h.telegram_get("/_sim/payments")
    return [p for p in answer.get("payments", []) if p["user"] in users]


async def _bot_messages(h: Harness, user: int) -> list[dict[str, Any]]:
    chat = await h.telegram_get(f"/_sim/chats/{user}")
    return [m for m in (chat.get("chat") or {}).get("messages", []) if m["sender"] == "bot"]


async def _wait_for(
    h: Harness, user: int, match, *, within: float = 10, after: int = 0
) -> dict[str, Any] | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for message in reversed(await _bot_messages(h, user)):
            if message["message_id"] > after and match(message):
                return message
        await asyncio.sleep(0.25)
    return None


async def _last_id(h: Harness, user: int) -> int:
    chat = await h.telegram_get(f"/_sim/chats/{user}")
    return max((m["message_id"] for m in (chat.get("chat") or {}).get("messages", [])), default=0)


async def _send_and_wait(h: Harness, user: int, body: dict[str, Any], match) -> dict[str, Any] | None:
    after = await _last_id(h, user)
    async with h.http.post(f"{h.telegram}/_sim/users/{user}/message", json=body) as response:
        await response.read()
    return await _wait_for(h, user, match, after=after)


async def _press_and_wait(h: Harness, user: int, message_id: int, data: str) -> dict[str, Any] | None:
    after = await _last_id(h, user)
    async with h.http.post(
        f"{h.telegram}/_sim/users/{user}/callback", json={"message_id": message_id, "data": data}
    ) as response:
        await response.read()
    return await _wait_for(h, user, lambda m: "invoice" in (m.get("extra") or {}), after=after)


async def _disrupt(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    events: list[tuple[float, str]] = [(t, "kill") for t in plan.worker_kills_at]
    if plan.revoke_key_at is not None:
        events.append((plan.revoke_key_at, "revoke"))
    if plan.postgres_restart_at is not None and h.postgres is not None:
        events.append((plan.postgres_restart_at, "postgres"))
    for at, what in sorted(events):
        delay = at - (time.time() - run.began)
        if delay > 0:
            await asyncio.sleep(delay)
        if what == "revoke":
            await h.kie_config(revoked_keys=[CHAOS_KIE_KEYS[1]])
            run.key_revoked_at = time.time() - run.began
            say(f"KIE revoked key {key_id(CHAOS_KIE_KEYS[1])} at +{run.key_revoked_at:.1f} s")
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
    deadline = time.monotonic() + plan.settle_timeout
    pending = set(run.ids)
    while pending and time.monotonic() < deadline:
        for workflow_id in list(pending):
            try:
                description = await h.client.get_workflow_handle(workflow_id).describe()
            except RPCError:
                continue
            if description.status != WorkflowExecutionStatus.RUNNING:
                pending.discard(workflow_id)
                run.statuses[workflow_id] = description.status.name if description.status else "?"
                if description.close_time is not None:
                    run.durations[workflow_id] = (
                        description.close_time - description.start_time
                    ).total_seconds()
        if pending:
            await asyncio.sleep(1.0)
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


# ---- the checks
async def check(h: Harness, run: Run) -> tuple[list[Check], dict[str, Any]]:
    checks: list[Check] = []
    ids = run.ids
    results = {k: v for k, v in run.results.items() if v is not None}
    outcomes: dict[str, int] = {}
    for result in results.values():
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1

    # 1. every workflow closed (and completed: a failed or terminated workflow is a lost generation)
    not_closed = [i for i in ids if run.statuses.get(i) == "RUNNING"]
    not_completed = [i for i in ids if run.statuses.get(i) not in ("COMPLETED", "RUNNING")]
    checks.append(
        _check(
            "every workflow closed",
            not not_closed and not not_completed,
            f"{len(ids)} started, {len(ids) - len(not_closed)} closed, "
            f"{len(not_closed)} still running, {len(not_completed)} closed other than completed"
            + (f" e.g. {(not_closed + not_completed)[:3]}" if not_closed or not_completed else ""),
        )
    )

    # 2. ledger invariant for every user
    violations = await check_invariant(h.pool)
    checks.append(
        _check(
            "ledger invariant holds for every user",
            not violations,
            f"{len(violations)} violation(s)" + (f": {violations[0]}" if violations else ""),
        )
    )

    # 3. credits charged = sum of prices of successful generations
    charges = await h.pool.fetch(
        "SELECT generation_id, amount FROM ledger_entries WHERE kind = 'charge' AND generation_id = ANY($1)",
        ids,
    )
    charged_total = sum(r["amount"] for r in charges)
    succeeded = {i: r for i, r in results.items() if r.outcome == Outcome.SUCCEEDED}
    expected_total = sum(r.price for r in succeeded.values() if r.charged)
    charged_ids = {r["generation_id"] for r in charges}
    expected_ids = {i for i, r in succeeded.items() if r.charged}
    checks.append(
        _check(
            "credits charged = prices of successes",
            charged_total == expected_total and charged_ids == expected_ids,
            f"charged {charged_total} over {len(charges)} charges; successes priced {expected_total} "
            f"over {len(expected_ids)}; charged but not succeeded {len(charged_ids - expected_ids)}, "
            f"succeeded but not charged {len(expected_ids - charged_ids)}",
        )
    )

    # 4. no open holds
    open_holds = await h.pool.fetchval(
        "SELECT count(*) FROM holds WHERE state = 'open' AND user_id = ANY($1)", run.users
    )
    held = await h.pool.fetchval(
        "SELECT coalesce(sum(held), 0) FROM accounts WHERE user_id = ANY($1)", run.users
    )
    checks.append(
        _check("no open holds", open_holds == 0 and held == 0, f"{open_holds} open hold(s), {held} held")
    )

    # 5. no generation charged twice (nor charged and released)
    twice = await h.pool.fetch(
        "SELECT generation_id, count(*) AS n FROM ledger_entries WHERE kind IN ('charge', 'release') "
        "AND generation_id = ANY($1) GROUP BY generation_id HAVING count(*) > 1",
        ids,
    )
    holds = await h.pool.fetch(
        "SELECT generation_id, count(*) AS n FROM ledger_entries WHERE kind = 'hold' "
        "AND generation_id = ANY($1) GROUP BY generation_id HAVING count(*) > 1",
        ids,
    )
    checks.append(
        _check(
            "no generation charged twice",
            not twice and not holds,
            f"{len(twice)} settled twice, {len(holds)} held twice",
        )
    )

    # 6. every success delivered at least once; duplicates counted
    delivery = await _deliveries(h, run, succeeded)
    checks.append(
        _check(
            "every success delivered at least once",
            not delivery["missing"],
            f"{delivery['delivered']} of {delivery['expected']} delivered; "
            f"{len(delivery['missing'])} missing{_examples(delivery['missing'])}; "
            f"{delivery['duplicates']} duplicate message(s); blocked user: "
            f"{delivery['blocked_successes']} success(es) not deliverable (charged, marked delivery_failed)",
        )
    )

    # 7. the webhook never answered 5xx, except 503 while Temporal was down
    hooks = await _webhook_answers(h, run)
    checks.append(
        _check(
            "webhook never answered 5xx (503 only while Temporal down)",
            not hooks["bad"],
            f"{hooks['attempts']} callback attempts: {hooks['by_status']}; "
            f"{len(hooks['bad'])} violation(s){' e.g. ' + str(hooks['bad'][:2]) if hooks['bad'] else ''}",
        )
    )

    # 8. generation rows agree with the workflows
    rows = await h.pool.fetch("SELECT id, status FROM generations WHERE id = ANY($1)", ids)
    disagree = [r["id"] for r in rows if r["id"] in results and r["status"] != results[r["id"]].outcome.value]
    checks.append(
        _check(
            "generation rows agree with workflow results",
            not disagree and len(rows) == len(ids),
            f"{len(rows)} rows for {len(ids)} generations, {len(disagree)} disagree",
        )
    )

    # 9. no process died (a child that exits is a crash: the launcher would stop everything)
    names = [c.name for c in h.stack.children]
    dead = [f"{c.name} (exit {c.process.returncode})" for c in h.stack.dead_children() if c.process]
    checks.append(
        _check("every process still running", not dead, ", ".join(dead) or f"{', '.join(names)} alive")
    )

    # 10. payments
    payments_check, payments_facts = await check_payments(h, run)
    checks.append(payments_check)

    # 11. the revoked key left the rotation (once) and the other carried on
    keys = {state.key_id: state for state in await KieKeys(h.pool).states()}
    revoked, other = key_id(CHAOS_KIE_KEYS[1]), key_id(CHAOS_KIE_KEYS[0])
    kie_stats = await h.kie_get("/_sim/stats")
    created = kie_stats.get("stats", kie_stats)
    if run.key_revoked_at is not None:
        out = revoked in keys and keys[revoked].disabled_at is not None and keys[other].disabled_at is None
        after = sum(1 for i in run.surge_ids if i in succeeded)
        by_key = {k: v for k, v in created.items() if k.startswith("tasks_created_by_")}
        checks.append(
            _check(
                "a revoked KIE key leaves the rotation, the other carries on",
                out and after > 0,
                f"key {revoked}: {'out of rotation' if out else 'still in rotation'} "
                f"({keys[revoked].disabled_reason if revoked in keys else 'unknown'}); "
                f"tasks by key: {by_key}; "
                f"{after} of {len(run.surge_ids)} surge generations succeeded",
            )
        )

    tg_faults = [c for c in await h.telegram_calls() if c.get("fault") == "chaos"]
    facts = {
        "outcomes": outcomes,
        "failure_share_observed": round(outcomes.get("failed", 0) / max(1, len(results)), 3),
        "worker_kills_at_s": [round(k, 1) for k in run.kills],
        "postgres_down_s": [(round(a, 1), round(b, 1)) for a, b in run.postgres_down],
        "settled_after_s": round(run.settled_after, 1),
        "generation_seconds": _spread(list(run.durations.values())),
        "slowest_generations": sorted(run.durations, key=run.durations.__getitem__)[-3:],
        "generations_with_several_kie_tasks": hooks["several_tasks"],
        "kie_stats": kie_stats,
        "telegram_faults_injected": len(tg_faults),
        "telegram_faults_by_code": _count_by(tg_faults, "error_code"),
        "webhook_answers": hooks["by_status"],
        "payments": payments_facts,
        "deliveries": {k: v for k, v in delivery.items() if k != "missing"},
    }
    return checks, facts


async def check_payments(h: Harness, run: Run) -> tuple[Check, dict[str, Any]]:
    """Every Stars payment Telegram took is credited exactly once, whatever the duplicated updates."""
    name = "payments: Stars burst with duplicated updates credited once"
    if not run.payers:
        return check_stars_payments(), {}
    from billing import load_packages

    # Settled: every charge Telegram took has its payment row and no top-up is still running. A charge can
    # be taken moments before the checks while its successful_payment update still waits for the bot's next
    # getUpdates (after a 429 the bot backs off), so waiting only for running workflows is not enough.
    for _ in range(60):
        taken_ids = [p["charge_id"] for p in await _sim_payments(h, run.payers)]
        recorded = await h.pool.fetchval(
            "SELECT count(*) FROM payments WHERE telegram_payment_charge_id = ANY($1)", taken_ids
        )
        running = await h.count('WorkflowType = "TopUpWorkflow" AND ExecutionStatus = "Running"')
        if recorded == len(taken_ids) and not running:
            break
        await asyncio.sleep(1)
    taken = await _sim_payments(h, run.payers)
    charges = {p["charge_id"]: p for p in taken}
    rows = await h.pool.fetch(
        "SELECT telegram_payment_charge_id AS charge, user_id, credits FROM payments WHERE user_id = ANY($1)",
        run.payers,
    )
    entries = await h.pool.fetch(
        "SELECT idempotency_key AS key, user_id, amount FROM ledger_entries "
        "WHERE kind = 'topup' AND user_id = ANY($1)",
        run.payers,
    )
    balances = await h.pool.fetch("SELECT user_id, balance FROM accounts WHERE user_id = ANY($1)", run.payers)
    package = load_packages().get(run.plan.payment_package)
    credits = package.credits if package else 0
    per_charge: dict[str, int] = {}
    for entry in entries:
        charge = entry["key"].removeprefix("topup:")
        per_charge[charge] = per_charge.get(charge, 0) + 1
    twice = [c for c, n in per_charge.items() if n > 1]
    uncredited = [c for c in charges if c not in per_charge]
    unpaid = [c for c in per_charge if c not in charges]
    paid_by: dict[int, int] = {}
    for payment in taken:
        paid_by[payment["user"]] = paid_by.get(payment["user"], 0) + 1
    wrong_balance = [b["user_id"] for b in balances if b["balance"] != credits * paid_by.get(b["user_id"], 0)]
    # How many successful_payment updates the bot was handed (duplicates included), from the call log.
    delivered_updates = 0
    for call in await h.telegram_calls("getUpdates"):
        for update in call.get("result") or []:
            message = update.get("message") or {}
            if message.get("successful_payment") and (message.get("from") or {}).get("id") in run.payers:
                delivered_updates += 1
    ok = bool(charges) and not twice and not uncredited and not unpaid and not wrong_balance
    ok = ok and len(rows) == len(charges)
    bot = "alive" if h.alive("bot") else "DEAD"
    detail = (
        f"{len(charges)} payments by {len(run.payers)} users ({len(run.payment_failures)} gave up), "
        f"{delivered_updates} successful_payment updates, "
        f"{len(rows)} payment rows, {len(entries)} top-up entries; credited twice {len(twice)}, "
        f"not credited {len(uncredited)}, credited without a payment {len(unpaid)}, "
        f"wrong balances {len(wrong_balance)}; attempts {run.payment_steps}, bot {bot}"
    )
    facts = {
        "payments": len(charges),
        "payers": len(run.payers),
        "gave_up": run.payment_failures,
        "attempts": run.payment_attempts,
        "attempt_outcomes": run.payment_steps,
        "duplicates_per_update": run.plan.payment_duplicates,
        "successful_payment_updates_delivered": delivered_updates,
    }
    return Check(name, "PASS" if ok else "FAIL", detail), facts


def check_stars_payments() -> Check:
    """A burst of Stars payments with duplicated updates must credit each payment once.

    The top-up workflow does not exist yet, so this check cannot run: it reports SKIPPED, never PASS.
    """
    return Check(
        "payments: Stars burst with duplicated updates",
        "SKIPPED",
        "payments: not yet implemented (no process runs a top-up workflow for a Stars update yet)",
    )


async def _deliveries(h: Harness, run: Run, succeeded: dict[str, GenerationResult]) -> dict[str, Any]:
    """Each success's recorded Telegram file ids must be in its chat; media nobody recorded are duplicates."""
    rows = await h.pool.fetch(
        "SELECT id, user_id, telegram_file_ids FROM generations WHERE id = ANY($1)", list(succeeded)
    )
    by_id = {r["id"]: r for r in rows}
    chats: dict[int, dict[str, int]] = {}  # user -> file_id (or link:<message id>) -> messages
    for user in run.users:
        chat = await h.telegram_get(f"/_sim/chats/{user}")
        seen: dict[str, int] = {}
        for message in (chat.get("chat") or {}).get("messages", []):
            if message["sender"] != "bot" or message["deleted"]:
                continue
            if message["media"]:
                file_id = message["media"][0]["file_id"]
                seen[file_id] = seen.get(file_id, 0) + 1
            else:
                seen[f"link:{message['message_id']}"] = 1
        chats[user] = seen
    missing: list[str] = []
    delivered = expected = blocked = referenced = 0
    for gid, result in succeeded.items():
        row = by_id.get(gid)
        user = row["user_id"] if row else int(gid.split("-")[1])
        if user == run.blocked_user:
            blocked += 1
            continue
        expected += 1
        file_ids = list((row["telegram_file_ids"] if row else None) or [])
        if result.delivered and file_ids and all(chats[user].get(f) for f in file_ids):
            delivered += 1
            referenced += sum(1 for f in file_ids if not f.startswith("link:"))
        else:
            missing.append(gid)
    media_messages = sum(
        n
        for user, seen in chats.items()
        if user != run.blocked_user
        for key, n in seen.items()
        if not key.startswith("link:")
    )
    return {
        "expected": expected,
        "delivered": delivered,
        "missing": missing,
        "media_messages": media_messages,
        "duplicates": media_messages - referenced,
        "blocked_successes": blocked,
    }


async def _webhook_answers(h: Harness, run: Run) -> dict[str, Any]:
    """Every callback attempt the KIE simulator made for these generations, with the webhook's answer."""
    began_ms = int(run.began * 1000) - 1000
    ours = set(run.ids)
    tasks = (await h.kie_get("/_sim/tasks"))["tasks"]
    by_status: dict[str, int] = {}
    bad: list[dict[str, Any]] = []
    attempts = 0
    tasks_per_generation: dict[str, int] = {}
    for summary in tasks:
        if summary["createTime"] < began_ms:
            continue
        details = await h.kie_task(summary["taskId"])
        if not details or not details.get("callBackUrl"):
            continue
        workflow_id = details["callBackUrl"].split("/kie/callback/", 1)[1].split("?", 1)[0]
        if workflow_id not in ours:
            continue
        tasks_per_generation[workflow_id] = tasks_per_generation.get(workflow_id, 0) + 1
        for record in details["callbacks"]:
            if record["outcome"] in ("lost", "given_up"):
                continue
            attempts += 1
            status = record["status"]
            key = str(status) if status is not None else f"error:{(record.get('error') or '')[:40]}"
            by_status[key] = by_status.get(key, 0) + 1
            at = record["at_ms"] / 1000 - run.began
            temporal_down = any(a <= at <= b for a, b in run.temporal_down)
            if status is None or (status >= 500 and not (status == 503 and temporal_down)):
                bad.append({"task": summary["taskId"], "at_s": round(at, 1), "status": status, **record})
    several = sum(1 for n in tasks_per_generation.values() if n > 1)
    return {"attempts": attempts, "by_status": by_status, "bad": bad, "several_tasks": several}


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50": round(ordered[len(ordered) // 2], 1),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "max": round(ordered[-1], 1),
    }


def _examples(items: list[Any]) -> str:
    return f" e.g. {items[:3]}" if items else ""


def _count_by(items: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[str(item.get(key))] = counts.get(str(item.get(key)), 0) + 1
    return counts


def _check(name: str, ok: bool, detail: str) -> Check:
    return Check(name, "PASS" if ok else "FAIL", detail)


# ---- command line
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=ChaosPlan.generations)
    parser.add_argument("--users", type=int, default=ChaosPlan.users)
    parser.add_argument("--seed", type=int, default=ChaosPlan.seed)
    parser.add_argument("--payments", type=int, default=30, help="Stars top-ups through the bot (0: none)")
    parser.add_argument("--fuzz-requests", type=int, default=5000, help="0 skips the webhook fuzz")
    parser.add_argument("--bot-fuzz-updates", type=int, default=3000, help="0 skips the bot fuzz")
    args = parser.parse_args(argv)
    code = asyncio.run(_main(args))
    sys.stdout.flush()
    os._exit(code)


async def _main(args: argparse.Namespace) -> int:
    from bench import fuzz, fuzz_bot

    plan = ChaosPlan(generations=args.generations, users=args.users, seed=args.seed, payments=args.payments)

    def say(text: str) -> None:
        print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", flush=True)

    # Our own pool's reconnection attempts while PostgreSQL is down are expected; keep them off the console.
    logging.getLogger("asyncpg").setLevel(logging.CRITICAL)
    began = time.time()
    payload: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench.chaos " + " ".join(sys.argv[1:]),
        "plan": asdict(plan),
    }
    bot = bool(plan.payments or args.bot_fuzz_updates)
    processes = ("worker", "telegram-worker", "webhooks", *(("bot",) if bot else ()))
    # The bot fuzz walks the admin panel too: it needs an admin.
    admins = {"ADMIN_IDS": str(fuzz_bot.ADMIN_ID)} if args.bot_fuzz_updates else {}
    async with Harness.start(
        prefix="genflow-chaos-",
        kie_rate_limit_per_second=20,
        processes=processes,
        extra_env=admins | CHAOS_ENV,
    ) as h:
        say(
            f"{plan.generations} generations for {plan.users} users; "
            f"worker kills at {plan.worker_kills_at} s; "
            f"PostgreSQL restart at {plan.postgres_restart_at} s; "
            f"surge of {plan.surge} at {plan.surge_at} s, a KIE key revoked at {plan.revoke_key_at} s"
        )
        _run, checks, facts = await run_chaos(h, plan, say=say)
        payload["chaos"] = {"checks": [asdict(c) for c in checks], "facts": facts}
        print_checks(f"Chaos: {plan.generations} generations, {plan.users} users, seed {plan.seed}", checks)
        for key in (
            "outcomes",
            "failure_share_observed",
            "generation_seconds",
            "kie_stats",
            "telegram_faults_by_code",
            "deliveries",
        ):
            print(f"  {key}: {facts[key]}")
        fuzz_checks: list[Check] = []
        if args.fuzz_requests:
            say(f"webhook fuzz: {args.fuzz_requests} hostile requests")
            report = await fuzz.run_fuzz(h, fuzz.FuzzPlan(requests=args.fuzz_requests, seed=args.seed))
            fuzz_checks = report.checks
            payload["fuzz"] = asdict(report)
            print_checks(f"Webhook fuzz: {args.fuzz_requests} requests, seed {args.seed}", fuzz_checks)
            print(f"  categories: {report.categories}")
            print(f"  statuses: {report.statuses}")
        bot_checks: list[Check] = []
        if args.bot_fuzz_updates:
            bot_plan = fuzz_bot.BotFuzzPlan(updates=args.bot_fuzz_updates, seed=args.seed)
            bot_report = await fuzz_bot.run_bot_fuzz(h, bot_plan, say=say)
            bot_checks = bot_report.checks
            payload["bot_fuzz"] = {"plan": asdict(bot_plan), **asdict(bot_report)}
            fuzz_bot.print_report(
                bot_report,
                f"Bot fuzz: {args.bot_fuzz_updates} updates, {bot_plan.users} users, seed {args.seed}",
            )
    payload["seconds"] = round(time.time() - began, 1)
    path = write_results("chaos", payload)
    bad = failed(checks) + failed(fuzz_checks) + failed(bot_checks)
    print(f"results: {path.relative_to(path.parents[2])}  ({payload['seconds']} s)", flush=True)
    if bad:
        print(f"FAILED: {', '.join(c.name for c in bad)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    main()
