"""Row 2 of `make bench`: completed generations per second against as many bare floor workflows."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bench.cpu import cpu_share
from bench.floor import FLOOR_TASK_QUEUE, FloorPlan, FloorWorkflow
from bench.processes import child_process
from bench.workload import MODEL, Sizes, start_many
from testkit.harness import Harness


# ---- 2. throughput
async def throughput(h: Harness, sizes: Sizes, shape: dict[str, Any]) -> dict[str, Any]:
    """Completed generations per second through the whole stack, KIE finishing in about 1 s, callbacks on."""
    n = sizes.throughput_generations
    await h.kie_config(latency=1.0, latency_jitter=0.2, callback_lost_share=0.0, failure_share=0.0)
    users = [await h.new_user(credits=1_000_000) for _ in range(100)]
    started_at = time.time()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at - 1))
    query = f'WorkflowType = "GenerationWorkflow" AND StartTime >= "{since}"'

    async def start(i: int):
        return await h.generate(users[i % len(users)], MODEL, {"prompt": f"a harbour at night #{i}"})

    cpu = cpu_share(h)
    handles = await start_many(n, sizes.start_concurrency, start)
    started = time.time()
    done = await h.wait_count(f'{query} AND ExecutionStatus != "Running"', n, within=900)
    finished = time.time()
    gen_cpu = cpu.result()
    outcomes = await _outcomes(h, [hd.id for hd in handles])
    closes = await _close_times(h, query)
    gen_rate = n / (max(closes) - started_at) if closes else 0.0

    before = shape["activities_before_signal"]
    after = len(shape["activities_after_signal"])
    with child_process(
        ["-m", "bench.floor", "--address", f"127.0.0.1:{h.stack.ports.temporal}"], ready_line="ready"
    ):
        cpu = cpu_share(h)
        floor_started_at = time.time()
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(floor_started_at - 1))
        floor_query = f'WorkflowType = "FloorWorkflow" AND StartTime >= "{since}"'
        signals: list[asyncio.Task] = []

        async def start_floor(i: int):
            handle = await h.client.start_workflow(
                FloorWorkflow.run,
                FloorPlan(before=before, after=after),
                id=f"floor-tp-{uuid.uuid4().hex[:12]}",
                task_queue=FLOOR_TASK_QUEUE,
            )

            async def later() -> None:  # the "callback", about when KIE would send it
                await asyncio.sleep(1.0)
                await handle.signal("kie_callback", {"task_id": f"t{i}", "callback_type": None})

            signals.append(asyncio.create_task(later()))
            return handle

        await start_many(n, sizes.start_concurrency, start_floor)
        await asyncio.gather(*signals)
        floor_done = await h.wait_count(f'{floor_query} AND ExecutionStatus = "Completed"', n, within=900)
        floor_closes = await _close_times(h, floor_query)
        floor_cpu = cpu.result()
    floor_rate = n / (max(floor_closes) - floor_started_at) if floor_closes else 0.0
    return {
        "generations": n,
        "completed": done,
        "outcomes": outcomes,
        "start_phase_seconds": round(started - started_at, 2),
        "wall_seconds": round(finished - started_at, 2),
        "generations_per_second": round(gen_rate, 2),
        "floor_completed": floor_done,
        "floor_per_second": round(floor_rate, 2),
        "floor_shape": {"before": before, "after": after, "signal_after_seconds": 1.0},
        "ratio": round(gen_rate / floor_rate, 2) if floor_rate else None,
        "cpu_generations": gen_cpu,
        "cpu_floor": floor_cpu,
    }


async def _close_times(h: Harness, query: str) -> list[float]:
    closes = []
    async for execution in h.client.list_workflows(query, page_size=1000):
        if execution.close_time is not None:
            closes.append(execution.close_time.timestamp())
    return closes


async def _outcomes(h: Harness, ids: list[str]) -> dict[str, int]:
    rows = await h.pool.fetch(
        "SELECT status, count(*) AS n FROM generations WHERE id = ANY($1) GROUP BY status", ids
    )
    delivered = await h.pool.fetchval(
        "SELECT count(*) FROM generations WHERE id = ANY($1) AND telegram_file_ids IS NOT NULL", ids
    )
    return {**{row["status"]: row["n"] for row in rows}, "delivered": delivered}
