"""`python -m bench.chaos` (`make chaos`): generations under faults everywhere — nothing lost, nothing twice —
then the webhook fuzz and the bot fuzz on the same stack; exit 1 on any failed check.

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
from testkit.checks import Check, failed, print_checks
from testkit.harness import Harness


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=ChaosPlan.generations)
    parser.add_argument("--users", type=int, default=ChaosPlan.users)
    parser.add_argument("--seed", type=int, default=ChaosPlan.seed)
    parser.add_argument("--payments", type=int, default=30, help="Stars top-ups through the bot (0: none)")
    parser.add_argument("--fuzz-requests", type=int, default=5000, help="0 skips the webhook fuzz")
    parser.add_argument("--bot-fuzz-updates", type=int, default=3000, help="0 skips the bot fuzz")
    parser.add_argument(
        "--bot-fuzz-users",
        type=int,
        default=BotFuzzPlan.users,
        help="each needs a few dozen updates to walk deep",
    )
    args = parser.parse_args(argv)
    code = asyncio.run(_main(args))
    sys.stdout.flush()
    os._exit(code)


async def _main(args: argparse.Namespace) -> int:
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
    admins = {"ADMIN_IDS": str(bot_fuzz.ADMIN_ID)} if args.bot_fuzz_updates else {}
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


if __name__ == "__main__":
    main()
