"""Money in a bot fuzz: every ledger entry of a fuzz user must be a genuine payment's top-up (or its referral
bonus), forged payments declined, the ledger's invariant intact."""

from __future__ import annotations

from typing import Any

from db import check_invariant
from testkit.bot_fuzz.state import Run
from testkit.harness import Harness


async def credits(h: Harness, users: list[int]) -> dict[int, int]:
    rows = await h.pool.fetch("SELECT user_id, balance FROM accounts WHERE user_id = ANY($1)", users)
    return {r["user_id"]: r["balance"] for r in rows}


async def money_facts(h: Harness, run: Run, credits_before: dict[int, int]) -> dict[str, Any]:
    """Every ledger entry of a fuzz user is a genuine payment's top-up (or its referral bonus)."""
    users = run.users
    payments = [p for p in (await h.telegram_get("/_sim/payments"))["payments"] if p["user"] in users]
    charges = {p["charge_id"]: p for p in payments}
    entries = await h.pool.fetch(
        "SELECT user_id, kind, amount, idempotency_key AS key FROM ledger_entries WHERE user_id = ANY($1)",
        users,
    )
    referrers = {
        r["user_id"]: r["referrer_id"]
        for r in await h.pool.fetch("SELECT id AS user_id, referrer_id FROM users WHERE id = ANY($1)", users)
    }
    unexplained = []
    for entry in entries:
        key = entry["key"]
        if entry["kind"] == "topup" and key.removeprefix("topup:") in charges:
            if charges[key.removeprefix("topup:")]["user"] == entry["user_id"]:
                continue
        if entry["kind"] == "bonus" and key.startswith("referral:"):
            payment = charges.get(key.removeprefix("referral:"))
            if payment and referrers.get(payment["user"]) == entry["user_id"]:
                continue
        unexplained.append({k: entry[k] for k in ("user_id", "kind", "amount", "key")})
    forged = [s for s in run.sent if s.forged_payment]
    approved = [
        s.case
        for s in forged
        if s.kind == "pre_checkout_query"
        and run.watch.pre_checkout_answers.get(s.query_id or "", (0, False))[1]
    ]
    genuine_pre = [s for s in run.sent if s.kind == "pre_checkout_query" and not s.forged_payment]
    violations = [v for v in await check_invariant(h.pool) if v.user_id in set(users)]
    after = await credits(h, users)
    return {
        "real_payments": len(charges),
        "genuine_pre_checkouts": len(genuine_pre),
        "genuine_approved": sum(
            1 for s in genuine_pre if run.watch.pre_checkout_answers.get(s.query_id or "", (0, False))[1]
        ),
        "forged_pre_checkouts": sum(1 for s in forged if s.kind == "pre_checkout_query"),
        "forged_successful_payments": sum(1 for s in forged if s.kind == "message"),
        "forged_approved": approved,
        "ledger_entries": len(entries),
        "unexplained_entries": unexplained[:10],
        "unexplained_count": len(unexplained),
        "invariant_violations": [str(v) for v in violations[:5]],
        "credits_before": sum(credits_before.values()),
        "credits_after": sum(after.values()),
    }
