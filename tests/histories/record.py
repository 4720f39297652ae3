"""Record the histories replayed by tests/test_replay.py: `python -m tests.histories.record`.

Run it after a deliberate change to GenerationWorkflow, review the diff, and commit the new JSON files next to
the old ones when the old histories must still replay (they are what running workflows look like): rename
an old one (``*_timers.json``: polls before the poll activity) and record only the paths that changed,
`python -m tests.histories.record success_polling deadline_refund`.
Main paths run on the dev server (search attributes, as in production); the deadline path needs
time-skipping, where the workflow runs without search attributes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts.models import GenerationRequest, KieCallbackSignal, Stage
from genflow.embedded import temporal_cli, temporal_test_server
from tests.fixtures.temporal import SEARCH_ATTRIBUTES
from tests.workflows.fakes import FakeWorld
from workflows.generation import GenerationWorkflow
from workflows.starter import start_generation

HERE = Path(__file__).parent
QUEUE = "record-histories"

Scenario = Callable[[FakeWorld, WorkflowHandle], Awaitable[None]]


async def wait_stage(handle: WorkflowHandle, stage: Stage) -> None:
    for _ in range(500):
        if (await handle.query(GenerationWorkflow.status)).stage == stage:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"{handle.id} never reached {stage}")


async def callback_success(world: FakeWorld, handle: WorkflowHandle) -> None:
    await wait_stage(handle, Stage.WAITING)
    world.tasks["task-1"].state = "succeeded"
    await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))
    await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))


async def lost_answer(world: FakeWorld, handle: WorkflowHandle) -> None:
    await wait_stage(handle, Stage.WAITING)
    world.tasks["task-1"].state = "succeeded"
    await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))


async def callback_while_polling(world: FakeWorld, handle: WorkflowHandle) -> None:
    """No callback in the first 30 s: the poll activity runs; then the callback comes and cancels it."""
    await wait_stage(handle, Stage.WAITING)
    for _ in range(600):
        if world.poll_attempts:
            break
        await asyncio.sleep(0.1)
    world.tasks["task-1"].state = "succeeded"
    await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))


async def progress_then_result(world: FakeWorld, handle: WorkflowHandle) -> None:
    """Polled: progress reaches the chat in steps (each a poll activity's answer), then the result."""
    await wait_stage(handle, Stage.WAITING)
    task = world.tasks["task-1"]
    task.progress_per_check, task.succeed_at_check = 0.06, 6


async def cancel_while_preparing(world: FakeWorld, handle: WorkflowHandle) -> None:
    await wait_stage(handle, Stage.PREPARING)
    await handle.execute_update(GenerationWorkflow.cancel)


async def nothing(world: FakeWorld, handle: WorkflowHandle) -> None:
    return None


def scenarios() -> dict[str, tuple[Callable[[FakeWorld], None], Scenario, dict]]:
    def media(world: FakeWorld) -> None:
        world.media_fields = ["image_url"]
        world.prepare_gate = asyncio.Event()

    return {
        "success_callback": (lambda w: None, callback_success, {}),
        # No callback: found by the poll activity's first attempt, 30 s in.
        "success_polling": (lambda w: setattr(w, "finish_on_submit", "succeeded"), nothing, {}),
        "callback_while_polling": (lambda w: None, callback_while_polling, {}),
        "kie_rejected": (lambda w: setattr(w, "submit_script", ["reject"]), nothing, {}),
        "lost_answer_two_tasks": (lambda w: setattr(w, "submit_script", ["lost", "ok"]), lost_answer, {}),
        "cancel_before_submission": (media, cancel_while_preparing, {"image_url": "file-1"}),
        "insufficient_credits": (lambda w: setattr(w, "balance", 1), nothing, {}),
        "blocked_user": (
            lambda w: (setattr(w, "finish_on_submit", "succeeded"), setattr(w, "blocked", True)),
            nothing,
            {},
        ),
    }


async def record(client: Client, name: str, setup, drive: Scenario, extra: dict, *, starter: bool) -> None:
    world = FakeWorld(client=client)
    setup(world)
    queue = f"{QUEUE}-{uuid.uuid4().hex[:6]}"
    request = GenerationRequest(
        user_id=42,
        chat_id=42,
        request_key=name.replace("_", "-"),
        model_id="m",
        inputs={"prompt": "a cat", **extra},
        status_message_id=7,
    )
    async with world.running(client, queue):
        if starter:
            handle = await start_generation(client, request, task_queue=queue)
        else:
            handle = await client.start_workflow(
                GenerationWorkflow.run, request, id=f"gen-42-{name}", task_queue=queue
            )
        await drive(world, handle)
        await handle.result()
    history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())
    print(f"recorded {name}: {len(history.events)} events")


async def main(only: set[str]) -> None:
    async with await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_cli(),
        search_attributes=SEARCH_ATTRIBUTES,
    ) as env:
        for name, (setup, drive, extra) in scenarios().items():
            if not only or name in only:
                await record(env.client, name, setup, drive, extra, starter=True)
    # Minutes of polling in milliseconds on the time-skipping server (no search attributes upserted there).
    skipping = {
        "deadline_refund": (lambda w: None, nothing, {}),
        "progress_then_result": (lambda w: None, progress_then_result, {}),
    }
    for name, (setup, drive, extra) in skipping.items():
        if only and name not in only:
            continue
        async with await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=temporal_test_server()
        ) as env:
            await record(env.client, name, setup, drive, extra, starter=False)


if __name__ == "__main__":
    asyncio.run(main(set(sys.argv[1:])))
    sys.stdout.flush()
    os._exit(0)
