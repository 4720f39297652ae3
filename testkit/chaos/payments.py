"""A burst of Stars top-ups through the real bot (/topup → package → invoice → pay, every successful payment
delivered several times), and the check that each payment Telegram took was credited exactly once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from contracts.buttons import BuyPackage
from testkit.chaos.plan import ChaosPlan, Run
from testkit.checks import Check
from testkit.harness import Harness
from testkit.keyboards import buttons


async def pay_burst(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    """Users top up with Stars through the bot at once; each successful payment arrives several times."""
    if not plan.payments:
        return
    run.payers = [await h.new_user(credits=0) for _ in range(plan.payments)]
    await asyncio.gather(*(_pay(h, plan, run, user) for user in run.payers))
    say(f"{plan.payments} Stars payments made ({run.payment_attempts} attempts)")


async def _pay(h: Harness, plan: ChaosPlan, run: Run, user: int) -> None:
    """What a user does: /topup, a package, Pay; again after a while when Telegram or the bot lost a step."""
    await h.http.put(f"{h.telegram}/_sim/users/{user}", json={"first_name": "Payer", "language_code": "en"})
    buy = BuyPackage(package=plan.payment_package).pack()

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
            if await sim_payments(h, [user]):
                step("paid")
                return
            await asyncio.sleep(0.5)
        step("not_charged")
    run.payment_failures.append(str(user))


async def sim_payments(h: Harness, users: list[int]) -> list[dict[str, Any]]:
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
        taken_ids = [p["charge_id"] for p in await sim_payments(h, run.payers)]
        recorded = await h.pool.fetchval(
            "SELECT count(*) FROM payments WHERE telegram_payment_charge_id = ANY($1)", taken_ids
        )
        running = await h.count('WorkflowType = "TopUpWorkflow" AND ExecutionStatus = "Running"')
        if recorded == len(taken_ids) and not running:
            break
        await asyncio.sleep(1)
    taken = await sim_payments(h, run.payers)
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
    # How many successful_payment updates the bot was handed (duplicates included): from the call log under
    # long polling, from the webhook deliveries (accepted ones) with replicas.
    delivered_updates = 0
    if h.stack.replicas > 1:
        deliveries = (await h.telegram_get("/_sim/webhook/deliveries"))["deliveries"]
        delivered_updates = sum(
            1 for d in deliveries if d["kind"] == "successful_payment" and d["error"] is None
        )
    for call in await h.telegram_calls("getUpdates"):
        for update in call.get("result") or []:
            message = update.get("message") or {}
            if message.get("successful_payment") and (message.get("from") or {}).get("id") in run.payers:
                delivered_updates += 1
    ok = bool(charges) and not twice and not uncredited and not unpaid and not wrong_balance
    ok = ok and len(rows) == len(charges)
    bots = h.replicas_of("bot") or ["bot"]
    bot = "alive" if all(h.alive(name) for name in bots) else "DEAD"
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
