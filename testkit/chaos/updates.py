"""Telegram's updates across bot replicas (replicated runs): every update Telegram created was delivered and
handled, none handled twice, and every form walk found its form; read from the Telegram simulator's record
of webhook deliveries and the bot's claims (``bot_updates``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from testkit.chaos.plan import Run
from testkit.checks import Check, passed_if
from testkit.harness import Harness


async def check_updates(h: Harness, run: Run, *, settle: float = 90.0) -> tuple[list[Check], dict[str, Any]]:
    if h.stack.replicas == 1:
        return [], {}
    deadline = time.monotonic() + settle  # Telegram may still be retrying an update refused during a restart
    while True:
        pending = (await h.telegram_get("/_sim/updates"))["updates"]
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    deliveries = (await h.telegram_get("/_sim/webhook/deliveries"))["deliveries"]
    accepted = {d["update_id"] for d in deliveries if d["error"] is None}
    rows = await h.pool.fetch(
        "SELECT update_id, claims, duplicates, finishes, done_at FROM bot_updates WHERE update_id = ANY($1)",
        sorted({d["update_id"] for d in deliveries}),
    )
    handled = {r["update_id"] for r in rows if r["done_at"] is not None}
    lost = sorted(accepted - handled)
    twice = [r["update_id"] for r in rows if r["finishes"] > 1]
    retried = {d["update_id"] for d in deliveries if d["attempt"] > 1}
    replicas = {(d["upstream"] or "").split(",")[-1].strip() for d in deliveries if d["error"] is None}
    facts = {
        "updates_created": len(accepted) + len(pending),
        "updates_delivered": len(accepted),
        "delivery_attempts": len(deliveries),
        "updates_retried_by_telegram": len(retried),
        "updates_handled": len(handled),
        "redeliveries_answered_without_handling": sum(r["duplicates"] for r in rows),
        "claims_taken_over": sum(r["claims"] - 1 for r in rows),
        "updates_handled_twice": len(twice),
        "bot_replicas_answering": len(replicas),
    }
    walks = run.walks
    broken = [w for w in walks if not w["overview"] or not w["generation"]]
    checks = [
        passed_if(
            "no Telegram update lost across replicas",
            not lost and not pending,
            f"{len(accepted)} delivered, {len(handled)} handled, {len(pending)} never delivered, "
            f"{len(lost)} accepted but not handled {lost[:5]}; {len(retried)} retried by Telegram",
        ),
        passed_if(
            "no Telegram update handled twice",
            not twice,
            f"{len(twice)} handled twice {twice[:5]}; {facts['redeliveries_answered_without_handling']} "
            f"redeliveries answered without handling, {facts['claims_taken_over']} claims taken over",
        ),
        passed_if(
            "every form walk found its form on whichever replica",
            bool(walks) and not broken,
            f"{len(walks)} walks, {len(walks) - len(broken)} ended in their generation; broken: "
            + "; ".join(str(w.get("error", "no generation"))[:1500] for w in broken[:3]),
        ),
    ]
    return checks, facts
