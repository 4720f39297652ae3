"""`python -m bench.fuzz`: hostile requests against the webhook on a fresh stack (testkit.webhook_fuzz)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import asdict

from bench.results import machine, write_results
from testkit.checks import failed, print_checks
from testkit.harness import Harness
from testkit.webhook_fuzz import FuzzPlan, run_fuzz


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=FuzzPlan.requests)
    parser.add_argument("--seed", type=int, default=FuzzPlan.seed)
    args = parser.parse_args()

    async def go() -> int:
        async with Harness.start(prefix="genflow-fuzz-") as h:
            report = await run_fuzz(h, FuzzPlan(requests=args.requests, seed=args.seed))
        print_checks(f"Webhook fuzz: {args.requests} requests, seed {args.seed}", report.checks)
        print(f"  categories: {report.categories}\n  statuses: {report.statuses}")
        path = write_results("fuzz", {"machine": machine(), "fuzz": asdict(report)})
        print(f"results: {path}")
        return 1 if failed(report.checks) else 0

    code = asyncio.run(go())
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
