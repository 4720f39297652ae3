"""`python -m bench.chaos` (`make chaos`): generations under faults everywhere — nothing lost, nothing twice —
then the webhook fuzz and the bot fuzz on the same stack; exit 1 on any failed check.

``--replicas 2`` (`make chaos-replicas`) runs it on two of every process behind nginx: one replica of each
kind SIGKILLed at a time, the Temporal server and PostgreSQL restarted, the nginx → bot-1 link cut, users
walking the bot's form across replicas; the fuzzers are off there unless asked for (they judge one process,
not the topology).

The run, its plan and its checks are ``testkit.chaos`` (``tests/chaos`` runs a reduced plan inside
``make test``); the fuzzers are ``testkit.webhook_fuzz`` and ``testkit.bot_fuzz``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from dataclasses import asdict
from typing import Any

from bench.fuzz_bot import print_report
from bench.results import machine, write_results
from testkit import bot_fuzz, webhook_fuzz
from testkit.bot_fuzz import BotFuzzPlan
from testkit.chaos import CHAOS_ENV, ChaosPlan, run_chaos
from testkit.chaos.plan import MEDIA_METHODS, REPLICA_PROCESSES, WALKER_ENV
from testkit.checks import Check, failed, print_checks
from testkit.harness import Harness


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=1, help="2: two of every process behind nginx")
    parser.add_argument("--generations", type=int, default=None, help="default 300 (150 with replicas)")
    parser.add_argument("--users", type=int, default=ChaosPlan.users)
    parser.add_argument("--seed", type=int, default=ChaosPlan.seed)
    parser.add_argument("--payments", type=int, default=None, help="Stars top-ups through the bot (0: none)")
    parser.add_argument("--fuzz-requests", type=int, default=None, help="0 skips the webhook fuzz")
    parser.add_argument("--bot-fuzz-updates", type=int, default=None, help="0 skips the bot fuzz")
    parser.add_argument(
        "--bot-fuzz-users",
        type=int,
        default=BotFuzzPlan.users,
        help="each needs a few dozen updates to walk deep",
    )
    args = parser.parse_args(argv)
    replicated = args.replicas > 1
    for name, single, replicas in (
        ("generations", ChaosPlan.generations, 150),
        ("payments", 30, 20),
        ("fuzz_requests", 5000, 0),
        ("bot_fuzz_updates", 3000, 0),
    ):
        if getattr(args, name) is None:
            setattr(args, name, replicas if replicated else single)
    code = asyncio.run(_main(args))
    sys.stdout.flush()
    os._exit(code)


def replicated_plan(args: argparse.Namespace) -> ChaosPlan:
    """The full run on ``args.replicas`` of every process: three rounds of kills (one replica of each kind at
    a time), a Temporal restart, a PostgreSQL restart and two cuts of the nginx → bot-1 link, spread over the
    starts, with a surge and a KIE key revoked, recipes, Stars payments and users walking the form."""
    return ChaosPlan(
        generations=args.generations,
        users=args.users,
        seed=args.seed,
        payments=args.payments,
        replicas=args.replicas,
        start_seconds=40.0,
        worker_kills_at=[5.0, 17.0, 31.0],
        temporal_restarts_at=[11.0],
        postgres_restart_at=24.0,
        link_cuts_at=[8.0, 36.0],
        form_users=5,
        surge=50,
        surge_at=14.0,
        revoke_key_at=16.0,
        recipes=10,
        telegram_methods=MEDIA_METHODS,
    )


async def _main(args: argparse.Namespace) -> int:
    replicated = args.replicas > 1
    plan = (
        replicated_plan(args)
        if replicated
        else ChaosPlan(generations=args.generations, users=args.users, seed=args.seed, payments=args.payments)
    )

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
    bot = bool(plan.payments or args.bot_fuzz_updates or replicated)
    processes = REPLICA_PROCESSES if replicated else ("worker", "telegram-worker", "webhooks")
    processes += ("bot",) if bot and "bot" not in processes else ()
    # The bot fuzz walks the admin panel too: it needs an admin.
    admins = {"ADMIN_IDS": str(bot_fuzz.ADMIN_ID)} if args.bot_fuzz_updates else {}
    walkers = WALKER_ENV if replicated else {}
    async with Harness.start(
        prefix="genflow-chaos-",
        kie_rate_limit_per_second=20,
        processes=processes,
        replicas=args.replicas,
        links=("bot-1",) if replicated else (),
        extra_env=admins | CHAOS_ENV | walkers,
    ) as h:
        say(
            f"{plan.generations} generations for {plan.users} users on {args.replicas} replica(s) of "
            f"{', '.join(processes)}; kills at {plan.worker_kills_at} s; "
            f"PostgreSQL restart at {plan.postgres_restart_at} s; "
            + (
                f"Temporal restart at {plan.temporal_restarts_at} s; "
                f"nginx → bot-1 cut at {plan.link_cuts_at} s; "
                if replicated
                else ""
            )
            + f"surge of {plan.surge} at {plan.surge_at} s, a KIE key revoked at {plan.revoke_key_at} s"
        )
        run, checks, facts = await run_chaos(h, plan, say=say)
        payload["chaos"] = {"checks": [asdict(c) for c in checks], "facts": facts}
        title = f"Chaos: {plan.generations} generations, {plan.users} users, seed {plan.seed}"
        print_checks(title + (f", {args.replicas} replicas of everything" if replicated else ""), checks)
        keys = ["outcomes", "failure_share_observed", "generation_seconds", "kie_stats"]
        keys += ["telegram_faults_by_code", "deliveries"]
        for key in keys:
            print(f"  {key}: {facts[key]}")
        if replicated:
            print_replicated(run, facts)
        fuzz_checks: list[Check] = []
        if args.fuzz_requests:
            say(f"webhook fuzz: {args.fuzz_requests} hostile requests")
            report = await webhook_fuzz.run_fuzz(
                h, webhook_fuzz.FuzzPlan(requests=args.fuzz_requests, seed=args.seed)
            )
            fuzz_checks = report.checks
            payload["fuzz"] = asdict(report)
            print_checks(f"Webhook fuzz: {args.fuzz_requests} requests, seed {args.seed}", fuzz_checks)
            print(f"  categories: {report.categories}")
            print(f"  statuses: {report.statuses}")
        bot_checks: list[Check] = []
        if args.bot_fuzz_updates:
            bot_plan = BotFuzzPlan(updates=args.bot_fuzz_updates, users=args.bot_fuzz_users, seed=args.seed)
            bot_report = await bot_fuzz.run_bot_fuzz(h, bot_plan, say=say)
            bot_checks = bot_report.checks
            payload["bot_fuzz"] = {"plan": asdict(bot_plan), **asdict(bot_report)}
            print_report(
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


def print_replicated(run: Any, facts: dict[str, Any]) -> None:
    """The figures issue 15 asks of the replicated run, beside the checks."""
    print(f"  generations: {len(run.ids)} (recipes {len(run.recipe_ids)}, form walks {len(run.walks)})")
    print(f"  kills per kind: {run.replica_kills}")
    print(f"  Temporal restarts: {len(run.temporal_down)}, PostgreSQL restarts: {len(run.postgres_down)}")
    print(f"  link cuts: {len(run.link_cuts)}, updates sent during them: {run.cut_updates}")
    print(
        f"  Telegram updates: delivered {facts.get('updates_delivered')}, "
        f"handled {facts.get('updates_handled')}, "
        f"handled twice {facts.get('updates_handled_twice')}, retried by Telegram "
        f"{facts.get('updates_retried_by_telegram')}, redeliveries answered without handling "
        f"{facts.get('redeliveries_answered_without_handling')}, bot replicas answering "
        f"{facts.get('bot_replicas_answering')}"
    )


if __name__ == "__main__":
    main()
