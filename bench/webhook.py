"""Row 3 of `make bench`: signed KIE callbacks at concurrency 100, against the real webhooks server and a
bare signal-only handler."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp

from bench.processes import child_process
from bench.stats import summary_ms
from bench.workload import MODEL, Sizes, market_callback, start_many
from db import Generations
from genflow.embedded import free_port
from testkit.harness import Harness


# ---- 3. webhook
async def webhook(h: Harness, sizes: Sizes) -> dict[str, Any]:
    """KIE callbacks at concurrency 100 against the real endpoint, and against a bare signal-only handler.

    The targets are generation ids started on a queue no worker polls: a signal lands in the history and
    nothing else runs, so both servers are measured on the signal path alone.
    """
    n, concurrency = sizes.webhook_callbacks, sizes.webhook_concurrency
    targets = [f"gen-{900_000_000 + i}-sink{uuid.uuid4().hex[:8]}" for i in range(max(1, n // 5))]

    async def start_sink(i: int) -> None:
        # The webhook signals only generations it has a row for (404 otherwise), as the bot's would have.
        await Generations(h.pool).create(
            targets[i],
            user_id=900_000_000 + i,
            chat_id=900_000_000 + i,
            model_id=MODEL,
            format="text-to-image",
            inputs={"prompt": "sink"},
            price=0,
            free=True,
            language="en",
        )
        await h.client.start_workflow(
            "GenerationWorkflow", {}, id=targets[i], task_queue="bench-sink-no-worker"
        )

    await start_many(len(targets), sizes.start_concurrency, start_sink)
    port = free_port()
    results: dict[str, Any] = {}
    with child_process(
        [
            "-m",
            "bench.floor_webhook",
            "--address",
            f"127.0.0.1:{h.stack.ports.temporal}",
            "--port",
            str(port),
        ],
        port=port,
    ):
        floor_base = f"http://127.0.0.1:{port}"
        # Warm both up (connections, caches), then measure each twice, interleaved, and pool the samples.
        for base in (h.webhooks, floor_base):
            await _fire(h, base, targets, 200, concurrency)
        samples: dict[str, list[float]] = {"webhooks": [], "floor": []}
        statuses: dict[str, dict[int, int]] = {"webhooks": {}, "floor": {}}
        for _round in range(2):
            for label, base in (("webhooks", h.webhooks), ("floor", floor_base)):
                times, codes = await _fire(h, base, targets, n // 2, concurrency)
                samples[label] += times
                for code, count in codes.items():
                    statuses[label][code] = statuses[label].get(code, 0) + count
    for label in samples:
        results[label] = {
            **summary_ms(samples[label]),
            "statuses": statuses[label],
            "over_15s": sum(t > 15 for t in samples[label]),
        }
    results["ratio_p99"] = round(results["webhooks"]["p99_ms"] / results["floor"]["p99_ms"], 2)
    results["ratio_p50"] = round(results["webhooks"]["p50_ms"] / results["floor"]["p50_ms"], 2)
    results["callbacks"] = n
    results["concurrency"] = concurrency
    results["signed"] = True
    return results


async def _fire(
    h: Harness, base: str, targets: list[str], count: int, concurrency: int
) -> tuple[list[float], dict[int, int]]:
    times: list[float] = []
    codes: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                target = targets[i % len(targets)]
                task_id = uuid.uuid4().hex
                url = h.callback_url(target, model_id=MODEL).replace(h.webhooks, base)
                body = market_callback(task_id)
                headers = h.signed_headers(task_id)
                began = time.perf_counter()
                async with session.post(url, json=body, headers=headers) as response:
                    await response.read()
                times.append(time.perf_counter() - began)
                codes[response.status] = codes.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return times, codes
