"""The queued stage: a generation waiting for a KIE submit slot says where it stands, looks again on its own
schedule, can be cancelled, and is dispatched fairly per user (dev server, fairness enabled)."""

from __future__ import annotations

import asyncio
import time
import uuid

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.models import GenerationRequest, GenerationResult, Outcome, QueuePlace, Reason, Stage
from tests.workflows.fakes import FakeWorld
from workflows.generation import GenerationWorkflow

QUEUE = "queued-test"
BEHIND_A_SURGE = QueuePlace(ahead=12, queued=40, wait_seconds=6.0, refresh_seconds=5.0)


async def start(client, user_id: int = 42, queue: str = QUEUE) -> WorkflowHandle:
    key = uuid.uuid4().hex[:12]
    request = GenerationRequest(
        user_id=user_id,
        chat_id=user_id,
        request_key=key,
        model_id="google/nano-banana",
        inputs={"prompt": "a cat"},
        status_message_id=7,
    )
    return await client.start_workflow(
        GenerationWorkflow.run,
        request,
        id=f"gen-{user_id}-{key}",
        task_queue=queue,
        result_type=GenerationResult,
    )


async def skip_until(env: WorkflowEnvironment, predicate, within: float = 30.0) -> None:
    """Advance the server's clock (the queue's refresh timers) until ``predicate`` holds."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition never met"
        await asyncio.sleep(0.2)  # the workflow's activities run in real time
        await env.sleep(5)


async def until(predicate, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition never met"
        await asyncio.sleep(0.01)


async def test_a_queued_generation_shows_its_place_until_its_turn(env: WorkflowEnvironment):
    world = FakeWorld(client=env.client)
    world.queue = BEHIND_A_SURGE
    world.queue_places = [
        QueuePlace(ahead=8, queued=30, wait_seconds=4.0, refresh_seconds=5.0),
        QueuePlace(ahead=8, queued=30, wait_seconds=4.0, refresh_seconds=5.0),  # unchanged: no edit
        QueuePlace(ahead=3, queued=20, wait_seconds=1.5, refresh_seconds=5.0),
    ]
    async with world.running(env.client, QUEUE, kie=False):
        handle = await start(env.client)
        await skip_until(env, lambda: world.queue_lookups >= 3)
        with env.auto_time_skipping_disabled():
            status = await handle.query(GenerationWorkflow.status)
        assert status.stage == Stage.QUEUED and status.queue is not None
        assert world.tasks == {}  # still waiting for its slot
        async with world.kie_worker(env.client, QUEUE):  # the slot comes
            await until(lambda: bool(world.tasks))
            world.tasks["task-1"].state = "succeeded"
            result = await handle.result()
    assert result.outcome == Outcome.SUCCEEDED and world.kinds() == ["hold", "charge"]
    # The place as it moved, each change once; the first (12) the bot's own status message already said.
    assert world.queue_shown[:2] == [8, 3]
    assert world.notifications[0] == "queued" and "waiting_kie" in world.notifications
    history = await handle.fetch_history()
    upserted = {
        name
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
        for name in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    }
    # The time-skipping server knows no custom search attributes: none upserted there. (The SDK's own
    # TemporalChangeVersion, upserted with a patch, it knows.)
    assert upserted <= {"TemporalChangeVersion"}


async def test_cancel_while_queued_releases_and_never_reaches_kie(env: WorkflowEnvironment):
    world = FakeWorld(client=env.client)
    world.queue = BEHIND_A_SURGE
    async with world.running(env.client, QUEUE, kie=False):
        handle = await start(env.client)
        await skip_until(env, lambda: world.queue_lookups >= 1)
        with env.auto_time_skipping_disabled():
            accepted = await handle.execute_update(GenerationWorkflow.cancel)
        assert accepted.accepted and accepted.stage == Stage.QUEUED
        result = await handle.result()
    assert (result.outcome, result.reason) == (Outcome.CANCELLED, Reason.CANCELLED)
    assert world.kinds() == ["hold", "release"] and world.tasks == {} and world.submitted_by == []
    assert world.notifications[-1] == "cancelled"


async def test_no_queue_no_queued_stage_and_no_extra_steps(env: WorkflowEnvironment):
    world = FakeWorld(client=env.client)
    world.queue = QueuePlace(ahead=0, queued=1, wait_seconds=0.0, refresh_seconds=5.0)
    world.finish_on_submit = "succeeded"
    async with world.running(env.client, QUEUE):
        result = await (await start(env.client)).result()
    assert result.outcome == Outcome.SUCCEEDED
    assert "queued" not in world.notifications and world.queue_lookups == 0


async def test_submits_are_dispatched_fairly_per_user(temporal_dev: WorkflowEnvironment):
    """One user's burst does not hold back the others' first generations (the dev server's fairness)."""
    client = temporal_dev.client
    queue = f"fair-{uuid.uuid4().hex[:8]}"
    world = FakeWorld(client=client, balance=10_000)
    world.finish_on_submit = "succeeded"
    world.signal_before_return = True  # the callback: no 30 s wait for the first poll
    async with world.running(client, queue, kie=False):
        heavy = [await start(client, user_id=1, queue=queue) for _ in range(20)]
        light = [await start(client, user_id=100 + i, queue=queue) for i in range(5)]
        everyone = heavy + light
        # Everything waits in the submit queue before the (rate-limited) KIE worker starts.
        await until(lambda: len(world.movements) == len(everyone), within=30)
        await asyncio.sleep(1.0)
        async with world.kie_worker(client, queue, max_task_queue_activities_per_second=20):
            await asyncio.gather(*(h.result() for h in everyone))
    order = world.submitted_by
    light_ids = {h.id for h in light}
    positions = [i for i, wid in enumerate(order) if wid in light_ids]
    # FIFO would put them at 20..24; fair dispatch takes one from each user in turn.
    assert max(positions) < 12, (positions, order)
