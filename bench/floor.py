"""The floor: what Temporal itself costs on this server, with no Genflow code in the way.

``FloorWorkflow`` runs ``before`` no-op activities, waits for one ``kie_callback`` signal, then runs ``after``
no-op activities: the same shape as a happy-path generation (counted from its recorded history). Each no-op
returns the wall-clock time it ran, so a benchmark can tell when the last side effect happened.

``python -m bench.floor --address 127.0.0.1:7233 --task-queue bench-floor`` serves it in a process of its own,
like ``worker.py`` serves the generation. The module stays thin: the workflow sandbox re-imports it per run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

FLOOR_TASK_QUEUE = "bench-floor"


@dataclass
class FloorPlan:
    before: int
    after: int


@activity.defn(name="floor_noop")
async def floor_noop() -> float:
    return time.time()


@workflow.defn(name="FloorWorkflow")
class FloorWorkflow:
    def __init__(self) -> None:
        self._signalled = False

    @workflow.signal(name="kie_callback")
    def kie_callback(self, _payload: Any) -> None:
        self._signalled = True

    @workflow.run
    async def run(self, plan: FloorPlan) -> list[float]:
        stamps: list[float] = []
        for _ in range(plan.before):
            stamps.append(await _noop())
        await workflow.wait_condition(lambda: self._signalled)
        for _ in range(plan.after):
            stamps.append(await _noop())
        return stamps


async def _noop() -> float:
    return await workflow.execute_activity(floor_noop, start_to_close_timeout=timedelta(seconds=30))


def main() -> None:
    import argparse
    import asyncio
    import os
    import signal
    import sys

    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Worker

    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", default=FLOOR_TASK_QUEUE)
    args = parser.parse_args()

    async def serve() -> None:
        client = await Client.connect(args.address, data_converter=pydantic_data_converter)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # Worker defaults, like worker.py's main worker.
        async with Worker(
            client, task_queue=args.task_queue, workflows=[FloorWorkflow], activities=[floor_noop]
        ):
            print("floor worker ready", flush=True)
            await stop.wait()

    asyncio.run(serve())
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
