"""`python -m bench.fuzz_bot`: random updates at every step of the real bot, on a fresh stack
(``testkit.bot_fuzz``; docs/performance.md, "Bot fuzz")."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import asdict

from bench.results import machine, write_results
from testkit.bot_fuzz import ADMIN_ID, BotFuzzPlan, BotFuzzReport, run_bot_fuzz
from testkit.checks import failed, print_checks
from testkit.harness import Harness


def print_report(report: BotFuzzReport, title: str) -> None:
    print_checks(title, report.checks)
    print(f"  categories: {report.categories}")
    print(f"  update types: {report.update_types}")
    print(f"  answered: {report.answered} of {report.expected}")
    print(f"  {report.updates} updates in {report.seconds} s ({report.updates_per_second}/s)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz_bot", description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=BotFuzzPlan.updates)
    parser.add_argument("--users", type=int, default=BotFuzzPlan.users)
    parser.add_argument("--seed", type=int, default=BotFuzzPlan.seed)
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs) afterwards")
    args = parser.parse_args(argv)

    async def go() -> int:
        plan = BotFuzzPlan(updates=args.updates, users=args.users, seed=args.seed)
        async with Harness.start(
            prefix="genflow-fuzz-bot-",
            processes=("worker", "telegram-worker", "webhooks", "bot"),
            extra_env={"ADMIN_IDS": str(ADMIN_ID)},
            keep=args.keep,
        ) as h:
            if args.keep:
                print(f"stack directory: {h.stack.data_dir}", flush=True)
            report = await run_bot_fuzz(
                h, plan, say=lambda t: print(f"[fuzz-bot {time.strftime('%H:%M:%S')}] {t}")
            )
        print_report(report, f"Bot fuzz: {plan.updates} updates, {plan.users} users, seed {plan.seed}")
        payload = {
            "machine": machine(),
            "command": "python -m bench.fuzz_bot " + " ".join(sys.argv[1:]),
            "plan": asdict(plan),
            "bot_fuzz": asdict(report),
        }
        path = write_results("fuzz-bot", payload)
        print(f"results: {path.relative_to(path.parents[2])}", flush=True)
        return 1 if failed(report.checks) else 0

    code = asyncio.run(go())
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
