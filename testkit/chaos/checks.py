"""What must hold after a chaos run: nothing lost, nothing twice (every workflow closed, the ledger's
invariant, charges equal to the successes' prices, no open holds, every success delivered, no 5xx from the
webhook, rows agreeing with results, every process alive, payments credited once, a revoked KIE key out of
the rotation, recipes closed; with replicas, Telegram's updates handled once each and the forms intact)."""

from __future__ import annotations

from typing import Any

from contracts.models import Outcome
from db import KieKeys, check_invariant
from kie.accounts import key_id
from testkit.chaos.chains import check_recipes
from testkit.chaos.evidence import deliveries, webhook_answers
from testkit.chaos.payments import check_payments
from testkit.chaos.plan import CHAOS_KIE_KEYS, Run
from testkit.chaos.updates import check_updates
from testkit.checks import Check, passed_if
from testkit.harness import Harness


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
        passed_if(
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
        passed_if(
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
        passed_if(
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
        passed_if("no open holds", open_holds == 0 and held == 0, f"{open_holds} open hold(s), {held} held")
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
        passed_if(
            "no generation charged twice",
            not twice and not holds,
            f"{len(twice)} settled twice, {len(holds)} held twice",
        )
    )

    # 6. every success delivered at least once; duplicates counted
    delivery = await deliveries(h, run, succeeded)
    checks.append(
        passed_if(
            "every success delivered at least once",
            not delivery["missing"],
            f"{delivery['delivered']} of {delivery['expected']} delivered; "
            f"{len(delivery['missing'])} missing{_examples(delivery['missing'])}; "
            f"{delivery['duplicates']} duplicate message(s); blocked user: "
            f"{delivery['blocked_successes']} success(es) not deliverable (charged, marked delivery_failed)",
        )
    )

    # 7. the webhook never answered 5xx, except 503 while Temporal or PostgreSQL was down
    hooks = await webhook_answers(h, run)
    checks.append(
        passed_if(
            "webhook never answered 5xx (503 only while Temporal or PostgreSQL down)",  # 502 too behind nginx
            not hooks["bad"],
            f"{hooks['attempts']} callback attempts: {hooks['by_status']}; "
            f"{len(hooks['bad'])} violation(s){' e.g. ' + str(hooks['bad'][:2]) if hooks['bad'] else ''}",
        )
    )

    # 8. generation rows agree with the workflows
    rows = await h.pool.fetch("SELECT id, status FROM generations WHERE id = ANY($1)", ids)
    disagree = [r["id"] for r in rows if r["id"] in results and r["status"] != results[r["id"]].outcome.value]
    checks.append(
        passed_if(
            "generation rows agree with workflow results",
            not disagree and len(rows) == len(ids),
            f"{len(rows)} rows for {len(ids)} generations, {len(disagree)} disagree",
        )
    )

    # 9. no process died (a child that exits is a crash: the launcher would stop everything)
    names = [c.name for c in h.stack.children]
    dead = [f"{c.name} (exit {c.process.returncode})" for c in h.stack.dead_children() if c.process]
    checks.append(
        passed_if("every process still running", not dead, ", ".join(dead) or f"{', '.join(names)} alive")
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
            passed_if(
                "a revoked KIE key leaves the rotation, the other carries on",
                out and after > 0,
                f"key {revoked}: {'out of rotation' if out else 'still in rotation'} "
                f"({keys[revoked].disabled_reason if revoked in keys else 'unknown'}); "
                f"tasks by key: {by_key}; "
                f"{after} of {len(run.surge_ids)} surge generations succeeded",
            )
        )

    # 12. chains: every recipe closed, each step's hold closed once
    chains_check, chains_facts = await check_recipes(h, run)
    checks.append(chains_check)

    # 13–15. replicas: Telegram's updates delivered and handled once each, the forms intact
    update_checks, update_facts = await check_updates(h, run)
    checks += update_checks

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
        **chains_facts,
        **(
            {"replica_kills": run.replica_kills, "temporal_down_s": run.temporal_down}
            if run.replica_kills
            else {}
        ),
        **(
            {
                "link_cuts_at_s": [round(t, 1) for t in run.link_cuts],
                "updates_sent_during_cuts": run.cut_updates,
            }
            if run.link_cuts
            else {}
        ),
        **update_facts,
        "deliveries": {k: v for k, v in delivery.items() if k != "missing"},
    }
    return checks, facts


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


def _replica_facts(run: Run) -> dict[str, Any]:
    if not run.replica_kills and not run.temporal_down and not run.link_cuts:
        return {}
    return {
        "replica_kills": run.replica_kills,
        "temporal_down_s": [(round(a, 1), round(b, 1)) for a, b in run.temporal_down],
        "link_cuts_at_s": [round(t, 1) for t in run.link_cuts],
    }
