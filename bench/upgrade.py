"""`python -m bench.upgrade` (`make upgrade`): a rolling upgrade with a workflow change on a replicated stack.

100 generations started on version A, the two worker replicas replaced one by one with version B (a changed
``GenerationWorkflow`` behind ``workflow.patched``) while they wait for KIE; every generation of A must finish
and none may fail a replay. Exit 1 on any failed check.

The run and its checks are ``testkit.upgrade``; ``tests/scale/test_upgrade.py`` runs a reduced plan inside
``make test``.
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

from bench.results import machine, write_results
from testkit.checks import failed, print_checks, print_table
from testkit.harness import Harness
from testkit.upgrade.rollout import UpgradePlan, run_upgrade
from testkit.upgrade.verdict import judge

PROCESSES = ("worker", "telegram-worker", "webhooks")  # generations are started directly: no bot needed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upgrade", description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=UpgradePlan.generations, help="started on A")
    parser.add_argument("--finish-before", type=int, default=UpgradePlan.finish_before)
    parser.add_argument("--finish-during", type=int, default=UpgradePlan.finish_during)
    parser.add_argument("--started-on-b", type=int, default=UpgradePlan.started_on_b)
    args = parser.parse_args(argv)
    code = asyncio.run(_main(args))
    sys.stdout.flush()
    os._exit(code)


async def _main(args: argparse.Namespace) -> int:
    plan = UpgradePlan(
        generations=args.generations,
        finish_before=args.finish_before,
        finish_during=args.finish_during,
        started_on_b=args.started_on_b,
    )

    def say(text: str) -> None:
        print(f"[upgrade {time.strftime('%H:%M:%S')}] {text}", flush=True)

    logging.getLogger("asyncpg").setLevel(logging.CRITICAL)
    began = time.time()
    payload: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench.upgrade " + " ".join(sys.argv[1:]),
        "plan": asdict(plan),
    }
    async with Harness.start(prefix="genflow-upgrade-", processes=PROCESSES, replicas=2) as h:
        run = await run_upgrade(h, plan, say=say)
        checks, figures = await judge(h, run)
    payload |= {"checks": [asdict(c) for c in checks], "figures": figures}
    print_table(
        f"Rolling upgrade A → B: {plan.generations} generations on A, {plan.started_on_b} on B",
        ["figure", "value"],
        [
            ["generations started on A", figures["started_on_a"]],
            ["in flight when the deploy began", figures["in_flight_at_deploy"]],
            ["completed on A", figures["completed_on_a"]],
            ["completed on B", figures["completed_on_b"]],
            ["  of which took B's new step", figures["a_took_late_step"]],
            [
                "started on B, completed on B",
                f"{figures['started_on_b_completed_on_b']} of {plan.started_on_b}",
            ],
            ["failed", figures["failed"]],
            ["workflow task failures", figures["workflow_task_failures"]],
            ["replay failures (on B)", figures["replay_failures"]],
            ["deploy (both replicas)", f"{run.timings['deploy_seconds']} s"],
        ],
    )
    print(f"  completed by, by when KIE finished: {figures['completed_by_when_finished']}")
    print(f"  pollers of the workflow queue mid-deploy: {figures['pollers_mid_deploy']}")
    print_checks("Checks", checks)
    payload["seconds"] = round(time.time() - began, 1)
    path = write_results("upgrade", payload)
    print(f"results: {path.relative_to(path.parents[2])}  ({payload['seconds']} s)", flush=True)
    bad = failed(checks)
    if bad:
        print(f"FAILED: {', '.join(c.name for c in bad)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    main()
