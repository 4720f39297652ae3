"""`make bench`: latency, throughput, webhook, cost and memory of Genflow, each beside its floor, in one run.

Every figure is measured on one freshly started stack (``testkit.harness.Harness``): the Temporal dev server,
PostgreSQL, both simulators, the worker, the Telegram worker and the webhooks server as separate processes,
on this machine.
Floors run on the same Temporal server, in processes of their own, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

from bench.cpu import cpu_share
from bench.latency import latency_and_cost
from bench.memory import memory
from bench.results import machine, write_results
from bench.surge import SurgePlan, run_surge
from bench.surge import verdict as surge_verdict
from bench.throughput import throughput
from bench.verdicts import verdicts
from bench.waiting import waiting
from bench.webhook import webhook
from bench.workload import Sizes
from genflow.settings import Settings
from testkit.checks import print_table
from testkit.harness import Harness


async def run(sizes: Sizes, only: set[str], temporal_db: str = "memory") -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine(),
        "sizes": sizes.__dict__,
        "command": "python -m bench " + " ".join(sys.argv[1:]),
    }
    began = time.time()
    results["temporal_persistence"] = temporal_db
    if only - {"surge", "waiting"}:
        await _one_stack(results, sizes, only, temporal_db)
    if "waiting" in only:
        await _waiting_stack(results, sizes, temporal_db)
    if "surge" in only:
        # Stacks of their own: KIE's real limit, one key and then three.
        results["surge"] = {}
        for keys in sizes.surge_keys:
            results["surge"][keys] = await run_surge(keys, SurgePlan().scaled(sizes.surge_scale), say=_say)
            _say(surge_verdict(results["surge"][keys])[1])
    results["seconds"] = round(time.time() - began, 1)
    return results


async def _one_stack(results: dict[str, Any], sizes: Sizes, only: set[str], temporal_db: str) -> None:
    """Latency, cost, throughput, webhook and memory, on one stack with KIE's limit raised."""
    async with Harness.start(prefix="genflow-bench-", temporal_in_memory=temporal_db == "memory") as h:
        results["settings"] = {
            "KIE_RATE_LIMIT_TASKS": h.stack.env["KIE_RATE_LIMIT_TASKS"],
            "KIE_RATE_LIMIT_PERIOD_SECONDS": h.stack.env["KIE_RATE_LIMIT_PERIOD_SECONDS"],
            "LOG_LEVEL": h.stack.env["LOG_LEVEL"],
        }
        shape = None
        if only & {"latency", "cost", "throughput"}:
            _say("latency + cost: sequential generations and the bare-workflow floor")
            cpu = cpu_share(h)
            lc = await latency_and_cost(h, sizes)
            results["latency"], results["cost"] = lc["latency"], lc["cost"]
            results["latency"]["cpu"] = cpu.result()
            shape = results["latency"]["floor_shape"]
        if "throughput" in only:
            _say(f"throughput: {sizes.throughput_generations} generations, then the floor")
            assert shape is not None
            cpu = cpu_share(h)
            results["throughput"] = await throughput(h, sizes, shape)
            results["throughput"]["cpu"] = cpu.result()
        if "webhook" in only:
            _say(f"webhook: {sizes.webhook_callbacks} callbacks at concurrency {sizes.webhook_concurrency}")
            cpu = cpu_share(h)
            results["webhook"] = await webhook(h, sizes)
            results["webhook"]["cpu"] = cpu.result()
        if "memory" in only:
            _say(f"memory: {sizes.memory_generations} generations waiting for KIE")
            cpu = cpu_share(h)
            results["memory"] = await memory(h, sizes)
            results["memory"]["cpu"] = cpu.result()


async def _waiting_stack(results: dict[str, Any], sizes: Sizes, temporal_db: str) -> None:
    """Row 6 on a stack of its own: the other rows leave generations waiting that would poll KIE beside it."""
    default = Settings.model_fields["worker_max_cached_workflows"].default
    cache = sizes.waiting_cache if sizes.waiting_cache is not None else default
    # Given explicitly, so the row knows the worker's cache size whatever .env says.
    env = {"WORKER_MAX_CACHED_WORKFLOWS": str(cache)}
    async with Harness.start(
        prefix="genflow-bench-", temporal_in_memory=temporal_db == "memory", extra_env=env
    ) as h:
        _say(f"waiting: {sizes.waiting_generations} generations waiting for KIE, worker cache {cache}")
        cpu = cpu_share(h)
        results["waiting"] = await waiting(h, sizes, cache)
        results["waiting"]["cpu"] = cpu.result()


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="latency,cost,throughput,webhook,memory,waiting,surge")
    parser.add_argument("--latency-runs", type=int, default=Sizes.latency_runs)
    parser.add_argument("--throughput", type=int, default=Sizes.throughput_generations)
    parser.add_argument("--webhook-callbacks", type=int, default=Sizes.webhook_callbacks)
    parser.add_argument("--memory", type=int, default=Sizes.memory_generations)
    parser.add_argument(
        "--waiting", type=int, default=Sizes.waiting_generations, help="generations waiting in row 6"
    )
    parser.add_argument(
        "--waiting-samples", type=int, default=Sizes.waiting_samples, help="callbacks per group in row 6"
    )
    parser.add_argument(
        "--waiting-cache", type=int, default=None, help="row 6's worker cache (default: the setting's)"
    )
    parser.add_argument(
        "--surge-scale", type=float, default=Sizes.surge_scale, help="0.2: 200 requests from 40 users"
    )
    parser.add_argument("--surge-keys", default="1,3", help="KIE keys of each surge run")
    parser.add_argument(
        "--temporal-db",
        choices=["memory", "file"],
        default="memory",
        help="the dev server's persistence: in memory (default), or a SQLite file as `make run` uses",
    )
    args = parser.parse_args(argv)
    sizes = Sizes(
        latency_runs=args.latency_runs,
        throughput_generations=args.throughput,
        webhook_callbacks=args.webhook_callbacks,
        memory_generations=args.memory,
        waiting_generations=args.waiting,
        waiting_samples=args.waiting_samples,
        waiting_cache=args.waiting_cache,
        surge_scale=args.surge_scale,
        surge_keys=tuple(int(k) for k in args.surge_keys.split(",") if k.strip()),
    )
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    results = asyncio.run(run(sizes, only, args.temporal_db))
    rows = verdicts(results)
    print_table(
        f"Genflow bench — {results['machine']['cores']} cores, {results['machine']['cpu']}, "
        f"Temporal dev server persistence: {results['temporal_persistence']}",
        ["measure", "Genflow", "floor", "ratio", "target", "verdict", "others' CPU"],
        rows,
    )
    results["verdicts"] = rows
    path = write_results("bench", results)
    print(f"results: {path.relative_to(path.parents[2])}  ({results['seconds']} s)", flush=True)
    sys.stdout.flush()
    os._exit(0)
