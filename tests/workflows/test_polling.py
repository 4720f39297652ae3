"""Polling KIE without a callback: after 30 s the ``poll_tasks`` activity asks, retried by Temporal on the
poll schedule, so a waiting generation costs its worker no workflow task between polls."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts.models import KieCallbackSignal, Outcome, Reason, Stage
from contracts.polling import PROGRESS_STEP
from genflow.embedded import temporal_test_server
from tests.workflows.fakes import FakeTask, FakeWorld
from tests.workflows.test_generation_workflow import QUEUE, start, wait_for_stage
from workflows.generation import GenerationWorkflow


@pytest.fixture
def world(env: WorkflowEnvironment) -> FakeWorld:
    return FakeWorld(client=env.client)


async def events(handle: WorkflowHandle) -> list:
    return [event async for event in handle.fetch_history_events()]


def count(history: list, kind: int) -> int:
    return sum(event.event_type == kind for event in history)


def poll_activities(history: list) -> int:
    return sum(
        event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "poll_tasks"
        for event in history
    )


async def wait_until(condition, what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def waited_until_the_deadline(deadline_seconds: int) -> tuple[FakeWorld, list]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=temporal_test_server()
    ) as env:
        world = FakeWorld(client=env.client, deadline_seconds=deadline_seconds)
        async with world.running(env.client, QUEUE):
            handle = await start(env)
            result = await handle.result()
            assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMED_OUT)
            return world, await events(handle)


async def test_a_longer_wait_costs_polls_not_workflow_tasks():
    short_world, short = await waited_until_the_deadline(15 * 60)
    long_world, long = await waited_until_the_deadline(2 * 3600)
    # At 30 s, 1.5, 3.5, 7.5 min, then every 5 min: 5 polls in 15 min, 26 in 2 h ...
    assert short_world.poll_attempts == 5
    assert long_world.poll_attempts == 26
    # ... all in one activity Temporal retried, with the same workflow tasks however long the wait.
    assert poll_activities(short) == poll_activities(long) == 1
    tasks = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    assert count(short, tasks) == count(long, tasks)
    assert count(long, EventType.EVENT_TYPE_TIMER_FIRED) == 2  # the first 30 s and the deadline
    assert long_world.kinds() == ["hold", "release"]


async def test_polling_finds_the_result_minutes_later(env, world):
    async with world.running(env.client, QUEUE):
        handle = await start(env)
        await wait_for_stage(handle, Stage.WAITING, env)
        world.tasks["task-1"].succeed_at_check = 4  # found by the fourth poll (3.5 min in)
        result = await handle.result()
        status = await handle.query(GenerationWorkflow.status)
    assert result.outcome == Outcome.SUCCEEDED and result.task_id == "task-1"
    assert world.kinds() == ["hold", "charge"] and len(world.deliveries) == 1
    assert world.poll_attempts == 4
    assert status.polls == 4


async def test_progress_reaches_the_chat_in_steps(env, world):
    world.deadline_seconds = 3600
    async with world.running(env.client, QUEUE):
        handle = await start(env)
        await wait_for_stage(handle, Stage.WAITING, env)
        task = world.tasks["task-1"]
        task.progress_per_check, task.succeed_at_check = 0.04, 12
        result = await handle.result()
    assert result.outcome == Outcome.SUCCEEDED
    history = await events(handle)
    # 11 polls moved progress to 0.44 by 0.04: the chat heard of it at 0.12, 0.24, 0.36 (a step each) ...
    progress_edits = world.notifications.count(Stage.WAITING.value) - 1  # the first says "waiting"
    assert progress_edits == 3
    assert PROGRESS_STEP == 0.1
    # ... each a poll activity's answer; the next one picks up the schedule where the last left off.
    assert poll_activities(history) == 4
    assert world.poll_attempts == 12


async def test_a_callback_while_polling_stops_the_poll(env, world):
    async with world.running(env.client, QUEUE):
        handle = await start(env)
        await wait_for_stage(handle, Stage.WAITING, env)
        with env.auto_time_skipping_disabled():
            await env.sleep(31)  # past the first 30 s: the poll activity is running
            await wait_until(lambda: world.poll_attempts >= 1, "the first poll")
            world.tasks["task-1"].state = "succeeded"
            await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))
        result = await handle.result()
    assert result.outcome == Outcome.SUCCEEDED
    history = await events(handle)
    assert count(history, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED) == 1
    assert world.kinds() == ["hold", "charge"]


async def test_a_task_a_callback_names_is_polled_too(env, world):
    async with world.running(env.client, QUEUE):
        handle = await start(env)
        await wait_for_stage(handle, Stage.WAITING, env)
        with env.auto_time_skipping_disabled():
            await env.sleep(31)
            await wait_until(lambda: world.poll_attempts >= 1, "the first poll")
            # A callback names a task whose create answer was lost; it is still running when asked.
            world.tasks["task-9"] = other = FakeTask("task-9")
            await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-9"))
            await wait_until(lambda: other.checks >= 1, "the callback's check")
        other.succeed_at_check = 3  # its result comes with no callback: a poll finds it
        result = await handle.result()
    assert result.outcome == Outcome.SUCCEEDED and result.task_id == "task-9"
    history = await events(handle)
    assert poll_activities(history) == 2  # restarted to ask about both tasks
    assert world.kinds() == ["hold", "charge"]


async def test_kie_unreachable_while_polling_is_retried(env, world):
    async with world.running(env.client, QUEUE):
        handle = await start(env)
        await wait_for_stage(handle, Stage.WAITING, env)
        world.status_unreachable = 3
        world.tasks["task-1"].succeed_at_check = 2
        result = await handle.result()
    assert result.outcome == Outcome.SUCCEEDED
    assert world.poll_attempts == 5  # three 502s, one "still running", then the result
    assert world.kinds() == ["hold", "charge"]
