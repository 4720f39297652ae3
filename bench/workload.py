"""What the benchmarks send, and how much of it: the model, the sizes, KIE's callback, concurrent starts."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testkit.harness import Harness

MODEL = "google/nano-banana"  # Market text-to-image: the commonest generation, one file, 4 credits


@dataclass
class Sizes:
    latency_runs: int = 50
    throughput_generations: int = 1000
    webhook_callbacks: int = 2000
    webhook_concurrency: int = 100
    memory_generations: int = 2000
    waiting_generations: int = 10_000  # row 6: generations waiting for KIE with a bounded workflow cache
    waiting_samples: int = 40  # row 6: callbacks measured in each group (cached, evicted)
    waiting_cache: int | None = None  # row 6: WORKER_MAX_CACHED_WORKFLOWS; None: the setting's default
    start_concurrency: int = 50
    surge_scale: float = 1.0  # the surge row's size: 1.0 is 1,000 requests from 200 users
    surge_keys: tuple[int, ...] = (1, 3)  # KIE keys of each surge run


def market_callback(task_id: str) -> dict[str, Any]:
    """A Market success callback as KIE sends it (the documented body, tests/kie/fixtures/
    market_callback_success.json): the webhook reads the task id, and what it reports for the timeline."""
    return {
        "code": 200,
        "msg": "Playground task completed successfully.",
        "data": {
            "taskId": task_id,
            "model": MODEL,
            "state": "success",
            "callbackType": None,
            "param": json.dumps({"model": MODEL, "input": {"prompt": "a slow tide", "output_format": "png"}}),
            "resultJson": json.dumps({"resultUrls": [f"https://kie.example/{task_id}.png"]}),
            "consumeCredits": 4,
            "costTime": 8,
            "createTime": 1755599634000,
            "completeTime": 1755599644000,
            "updateTime": 1755599644000,
        },
    }


async def send_callback(h: Harness, workflow_id: str, task_id: str) -> float:
    """KIE's signed success callback for ``task_id``, to the URL the KIE activity gives KIE; when the webhook
    answered (wall clock)."""
    async with h.http.post(
        h.callback_url(workflow_id, model_id=MODEL),
        json=market_callback(task_id),
        headers=h.signed_headers(task_id),
    ) as response:
        await response.read()
        answered = time.time()
        assert response.status == 200, response.status
    return answered


async def photo_delivered(h: Harness, user: int, after: int) -> tuple[float, int]:
    """Until a photo reaches ``user``'s chat after Bot API call ``after``: when the Telegram simulator stamped
    it, and the newest call seen (the next wait's ``after``)."""
    while True:
        calls = await h.telegram_calls("sendPhoto", after=after)
        mine = [c for c in calls if int(c["params"].get("chat_id", 0)) == user and c["ok"]]
        if mine:
            return mine[0]["at"], max(c["seq"] for c in calls)
        await asyncio.sleep(0.002)


async def start_many(count: int, concurrency: int, start) -> list[Any]:
    """``start(i)`` for i in range(count), at most ``concurrency`` at once; returns what each returned."""
    results: list[Any] = [None] * count
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            results[i] = await start(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results
