"""Row 5 of `make bench`: the worker's memory with thousands of generations waiting for KIE."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.workload import MODEL, Sizes, start_many
from testkit.harness import Harness
from testkit.memory import hwm_mb


# ---- 5. memory
async def memory(h: Harness, sizes: Sizes) -> dict[str, Any]:
    """Worker RSS with ``memory_generations`` generations waiting for KIE (tasks that take an hour).

    The figure is the workflow worker's (``worker.py``), which caches the waiting workflows; the Telegram
    worker (aiogram, no workflows) is measured beside it, before and after, to show it does not grow.
    """
    n = sizes.memory_generations
    # Earlier phases left the workers at their allocator's high-water mark: measure fresh ones (a deploy).
    after_earlier_phases = h.rss_mb("worker")
    await asyncio.to_thread(h.stack.restart, "worker")
    await asyncio.to_thread(h.stack.restart, "telegram-worker")
    await h.wait_worker()
    await asyncio.sleep(2)
    pid = h.pid("worker")
    baseline = h.rss_mb("worker")
    telegram_baseline = h.rss_mb("telegram-worker")
    await h.kie_config(latency=3600.0, latency_jitter=0.0, callback_lost_share=0.0, failure_share=0.0)
    users = [await h.new_user(credits=1_000_000) for _ in range(200)]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    query = f'WorkflowType = "GenerationWorkflow" AND StartTime >= "{since}"'
    began = time.time()

    async def start(i: int):
        return await h.generate(users[i % len(users)], MODEL, {"prompt": f"a slow sunset #{i}"})

    await start_many(n, sizes.start_concurrency, start)
    waiting = await h.wait_count(f'{query} AND GenerationStage = "waiting_kie"', n, within=900)
    ramp = time.time() - began
    await asyncio.sleep(5)  # the last status messages go out
    samples, telegram_samples = [], []
    for _ in range(10):
        samples.append(h.rss_mb("worker"))
        telegram_samples.append(h.rss_mb("telegram-worker"))
        await asyncio.sleep(0.5)
    return {
        "generations_waiting": waiting,
        "ramp_seconds": round(ramp, 1),
        "worker_rss_mb_idle_after_earlier_phases": round(after_earlier_phases, 1),
        "worker_rss_mb_idle_before": round(baseline, 1),
        "worker_rss_mb": round(max(samples), 1),
        "worker_rss_mb_per_waiting_generation_kb": round((max(samples) - baseline) * 1024 / max(1, n), 1),
        "worker_peak_rss_mb_lifetime": round(hwm_mb(pid), 1),
        "telegram_worker_rss_mb_idle_before": round(telegram_baseline, 1),
        "telegram_worker_rss_mb": round(max(telegram_samples), 1),
        "other_processes_rss_mb": {
            name: round(h.rss_mb(name), 1)
            for name in ("webhooks", "kie-simulator", "telegram-simulator")
            if h.alive(name)
        },
    }
