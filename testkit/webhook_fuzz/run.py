"""The webhook fuzz's run: real generations waiting for KIE as targets, the probes fired at them, the
checks."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from temporalio.api.enums.v1 import EventType

from testkit.checks import Check
from testkit.harness import Harness
from testkit.memory import rss_mb
from testkit.webhook_fuzz.forger import Forger, Probe
from testkit.webhook_fuzz.sending import send
from workflows.generation import GenerationWorkflow

MODEL = "google/nano-banana"


@dataclass
class FuzzPlan:
    requests: int = 5000
    seed: int = 7
    targets: int = 3
    concurrency: int = 20
    warmup: int = 200
    rss_margin_mb: float = 15.0


@dataclass
class FuzzReport:
    requests: int
    categories: dict[str, int]
    statuses: dict[str, int]
    server_5xx: list[dict[str, Any]]
    unexpected_2xx: list[dict[str, Any]]
    signals: dict[str, int]
    callbacks_received: dict[str, int]
    rss_before_mb: float
    rss_after_mb: float
    alive: bool
    seconds: float
    checks: list[Check] = field(default_factory=list)


async def start_targets(h: Harness, count: int) -> list[tuple[str, str]]:
    """Real generations waiting for a KIE task that takes an hour and calls back only when done."""
    await h.kie_config(slow_latency=3600.0)
    user = await h.new_user(credits=1_000)
    handles = [await h.generate(user, MODEL, {"prompt": f"fuzz target {i} [sim:slow]"}) for i in range(count)]
    targets = []
    for handle in handles:
        for _ in range(600):
            status = await handle.query(GenerationWorkflow.status)
            if status.task_ids:
                targets.append((handle.id, status.task_ids[0]))
                break
            await asyncio.sleep(0.05)
        else:
            raise TimeoutError(f"{handle.id} never submitted its KIE task")
    return targets


async def finish_targets(h: Harness, targets: list[tuple[str, str]]) -> None:
    """Let the targets end normally (their KIE tasks complete, the real callbacks arrive)."""
    for _, task_id in targets:
        await h.http.post(f"{h.kie}/_sim/tasks/{task_id}/complete", json={"outcome": "success"})


async def count_signals(h: Harness, targets: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    signals, received = {}, {}
    for workflow_id, _ in targets:
        handle = h.client.get_workflow_handle(workflow_id)
        history = await handle.fetch_history()
        signals[workflow_id] = sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED for e in history.events
        )
        received[workflow_id] = (await handle.query(GenerationWorkflow.status)).callbacks_received
    return signals, received


async def run_fuzz(h: Harness, plan: FuzzPlan) -> FuzzReport:
    rng = random.Random(plan.seed)
    began = time.time()
    slow_latency = (await h.kie_get("/_sim/config"))["slow_latency"]
    targets = await start_targets(h, plan.targets)
    forger = Forger(h, targets, rng)
    statuses: dict[str, int] = {}
    categories: dict[str, int] = {}
    server_5xx: list[dict[str, Any]] = []
    unexpected_2xx: list[dict[str, Any]] = []
    pid = h.pid("webhooks")

    async def fire(count: int) -> None:
        probes = [forger.next() for _ in range(count)]
        queue: asyncio.Queue[Probe] = asyncio.Queue()
        for probe in probes:
            queue.put_nowait(probe)
        timeout = aiohttp.ClientTimeout(total=30)
        # A connection per request: the server may close one after a 413, and a reused connection would then
        # look like a dropped request.
        connector = aiohttp.TCPConnector(force_close=True, limit=plan.concurrency)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        ) as session:

            async def worker() -> None:
                while not queue.empty():
                    probe = queue.get_nowait()
                    status = await send(session, h.webhooks, probe)
                    statuses[status] = statuses.get(status, 0) + 1
                    key = f"{probe.category}:{probe.case}"
                    categories[probe.category] = categories.get(probe.category, 0) + 1
                    if status.isdigit() and int(status) >= 500:
                        server_5xx.append({"probe": key, "status": status})
                    elif status.isdigit() and int(status) < 300:
                        unexpected_2xx.append({"probe": key, "status": status})
                    elif status == "closed" and not probe.oversized and probe.raw is None:
                        unexpected_2xx.append({"probe": key, "status": "closed"})

            await asyncio.gather(*(worker() for _ in range(plan.concurrency)))

    try:
        await fire(plan.warmup)
        rss_before = rss_mb(pid)
        await fire(plan.requests - plan.warmup)
        await asyncio.sleep(1.0)
        alive = h.alive("webhooks")
        rss_after = rss_mb(pid) if alive else float("nan")
        async with h.http.get(f"{h.webhooks}/healthz") as response:
            alive = alive and response.status == 200
        signals, received = await count_signals(h, targets)
    finally:
        await finish_targets(h, targets)
        await h.kie_config(slow_latency=slow_latency)

    report = FuzzReport(
        requests=plan.requests,
        categories=categories,
        statuses=dict(sorted(statuses.items())),
        server_5xx=_summarise(server_5xx),
        unexpected_2xx=_summarise(unexpected_2xx),
        signals=signals,
        callbacks_received=received,
        rss_before_mb=round(rss_before, 1),
        rss_after_mb=round(rss_after, 1),
        alive=alive,
        seconds=round(time.time() - began, 1),
    )
    report.checks = [
        Check(
            "zero signals from hostile requests",
            "PASS" if not any(signals.values()) and not any(received.values()) else "FAIL",
            f"signals in target histories {sum(signals.values())}, callbacks_received "
            f"{sum(received.values())} ({len(targets)} waiting generations)",
        ),
        Check(
            "zero 5xx",
            "PASS" if not server_5xx else "FAIL",
            f"{len(server_5xx)} answers >= 500" + (f": {report.server_5xx[:4]}" if server_5xx else ""),
        ),
        Check(
            "nothing accepted",
            "PASS" if not unexpected_2xx else "FAIL",
            f"{len(unexpected_2xx)} 2xx (or dropped well-formed requests)"
            + (f": {report.unexpected_2xx[:4]}" if unexpected_2xx else ""),
        ),
        Check("webhook process alive", "PASS" if alive else "FAIL", "healthz 200" if alive else "dead"),
        Check(
            "webhook memory flat",
            "PASS" if rss_after - rss_before <= plan.rss_margin_mb else "FAIL",
            f"RSS {report.rss_before_mb} MB -> {report.rss_after_mb} MB after {plan.requests - plan.warmup} "
            f"requests (margin {plan.rss_margin_mb} MB)",
        ),
    ]
    return report


def _summarise(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], int] = {}
    for item in items:
        key = (item["probe"], item["status"])
        counts[key] = counts.get(key, 0) + 1
    return [{"probe": p, "status": s, "count": n} for (p, s), n in sorted(counts.items())]
