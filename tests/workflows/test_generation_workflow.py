"""GenerationWorkflow on Temporal's time-skipping server: every branch, hour-long waits in milliseconds."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.models import (
    GenerationRequest,
    GenerationResult,
    KieCallbackSignal,
    Outcome,
    Reason,
    Stage,
)
from tests.workflows.fakes import FakeWorld
from workflows.generation import GenerationWorkflow

QUEUE = "generation-test"


@pytest.fixture
def world(env: WorkflowEnvironment) -> FakeWorld:
    return FakeWorld(client=env.client)


async def start(env: WorkflowEnvironment, **inputs: object) -> WorkflowHandle:
    request = GenerationRequest(
        user_id=42,
        chat_id=42,
        request_key=uuid.uuid4().hex[:12],
        model_id="google/nano-banana",
        inputs=inputs or {"prompt": "a cat"},
        status_message_id=7,
    )
    return await env.client.start_workflow(
        GenerationWorkflow.run,
        request,
        id=f"gen-42-{request.request_key}",
        task_queue=QUEUE,
        result_type=GenerationResult,
    )


async def run_to_end(
    env: WorkflowEnvironment, world: FakeWorld, handle_factory=None, **inputs
) -> GenerationResult:
    async with world.running(env.client, QUEUE):
        handle = await start(env, **inputs)
        if handle_factory is not None:
            await handle_factory(handle)
        return await handle.result()


async def wait_for_stage(handle: WorkflowHandle, stage: Stage, env: WorkflowEnvironment) -> None:
    # Queries run on real time; keep auto time-skipping from racing past the stage we wait for.
    with env.auto_time_skipping_disabled():
        for _ in range(200):
            if (await handle.query(GenerationWorkflow.status)).stage == stage:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"never reached {stage}")


async def test_success_via_callback_charges_once_and_delivers(env, world):
    async def send_callback(handle: WorkflowHandle) -> None:
        with env.auto_time_skipping_disabled():
            await wait_for_stage(handle, Stage.WAITING, env)
            world.tasks["task-1"].state = "succeeded"
            await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))

    result = await run_to_end(env, world, send_callback)
    assert result.outcome == Outcome.SUCCEEDED
    assert result.charged and result.delivered and result.task_id == "task-1"
    assert world.kinds() == ["hold", "charge"]
    assert (world.balance, world.held) == (90, 0)
    assert world.deliveries == [["https://kie.example/task-1.png"]]
    assert world.status_calls == 1  # the callback was confirmed with one status read, no polling needed


async def test_no_callback_polling_finds_the_result(env, world):
    world.finish_on_submit = "succeeded"
    result = await run_to_end(env, world)
    assert result.outcome == Outcome.SUCCEEDED
    assert world.kinds() == ["hold", "charge"]
    assert world.status_calls >= 1


async def test_kie_rejects_releases_the_hold(env, world):
    world.submit_script = ["reject"]
    result = await run_to_end(env, world)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.KIE_REJECTED)
    assert world.kinds() == ["hold", "release"]
    assert (world.balance, world.held) == (100, 0)
    assert world.notifications[-1] == Stage.FAILED.value


async def test_kie_operator_error_is_service_unavailable(env, world):
    world.submit_script = ["operator"]
    result = await run_to_end(env, world)
    assert result.reason == Reason.SERVICE_UNAVAILABLE and "402" in (result.detail or "")
    assert world.kinds() == ["hold", "release"]


async def test_kie_unavailable_then_recovers(env, world):
    world.submit_script = ["transient", "transient", "ok"]
    world.finish_on_submit = "succeeded"
    result = await run_to_end(env, world)
    assert result.outcome == Outcome.SUCCEEDED
    assert len(world.tasks) == 1 and world.kinds() == ["hold", "charge"]


async def test_kie_unavailable_past_the_budget_refunds(env, world):
    world.submit_script = ["transient"] * 1000
    result = await run_to_end(env, world)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.SERVICE_UNAVAILABLE)
    assert world.kinds() == ["hold", "release"]


async def test_lost_submit_answer_accepts_the_first_task_and_charges_once(env, world):
    world.submit_script = ["lost", "ok"]  # task-1 exists but its answer was lost; the retry made task-2

    async def callback_for_lost_task(handle: WorkflowHandle) -> None:
        with env.auto_time_skipping_disabled():
            await wait_for_stage(handle, Stage.WAITING, env)
            assert (await handle.query(GenerationWorkflow.status)).task_ids == ["task-2"]
            world.tasks["task-1"].state = "succeeded"
            await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))

    result = await run_to_end(env, world, callback_for_lost_task)
    assert result.outcome == Outcome.SUCCEEDED and result.task_id == "task-1"
    assert world.kinds() == ["hold", "charge"]
    assert len(world.tasks) == 2


async def test_callback_before_submit_returns(env, world):
    world.signal_before_return = True
    world.finish_on_submit = "succeeded"
    result = await run_to_end(env, world)
    assert result.outcome == Outcome.SUCCEEDED
    assert world.kinds() == ["hold", "charge"]
    assert world.status_calls == 1


async def test_ten_duplicate_callbacks_are_one(env, world):
    async def duplicates(handle: WorkflowHandle) -> None:
        with env.auto_time_skipping_disabled():
            await wait_for_stage(handle, Stage.WAITING, env)
            world.tasks["task-1"].state = "succeeded"
            for _ in range(10):
                await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))

    result = await run_to_end(env, world, duplicates)
    assert result.outcome == Outcome.SUCCEEDED
    assert world.kinds() == ["hold", "charge"]
    assert len(world.deliveries) == 1
    assert world.status_calls <= 2


async def test_no_result_before_the_deadline_refunds(env, world):
    result = await run_to_end(env, world)  # the task stays in progress forever
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMED_OUT)
    assert world.kinds() == ["hold", "release"]
    # 15 minutes at 30 s, 1 m, 2 m, then 5 m: a handful of polls, not one every few seconds.
    assert 4 <= world.status_calls <= 8


async def test_kie_task_fails(env, world):
    world.finish_on_submit = "failed"
    result = await run_to_end(env, world)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.GENERATION_FAILED)
    assert world.kinds() == ["hold", "release"]


async def test_poll_now_checks_immediately(env, world):
    async def poke(handle: WorkflowHandle) -> None:
        with env.auto_time_skipping_disabled():
            await wait_for_stage(handle, Stage.WAITING, env)
            world.tasks["task-1"].state = "succeeded"
            await handle.signal(GenerationWorkflow.poll_now)

    result = await run_to_end(env, world, poke)
    assert result.outcome == Outcome.SUCCEEDED


async def test_cancel_before_submission_releases(env, world):
    world.media_fields = ["image_url"]
    world.prepare_gate = asyncio.Event()

    async def cancel(handle: WorkflowHandle) -> None:
        with env.auto_time_skipping_disabled():
            await wait_for_stage(handle, Stage.PREPARING, env)
            accepted = await handle.execute_update(GenerationWorkflow.cancel)
            assert accepted.accepted

    result = await run_to_end(env, world, cancel, prompt="a cat", image_url="tg-file-1")
    assert (result.outcome, result.reason) == (Outcome.CANCELLED, Reason.CANCELLED)
    assert world.kinds() == ["hold", "release"]
    assert world.tasks == {}  # nothing reached KIE


async def test_cancel_after_submission_is_refused(env, world):
    async def cancel_late(handle: WorkflowHandle) -> None:
        with env.auto_time_skipping_disabled():
            await wait_for_stage(handle, Stage.WAITING, env)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(GenerationWorkflow.cancel)
            assert "too late" in str(refused.value.cause)
            world.tasks["task-1"].state = "succeeded"
            await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id="task-1"))

    result = await run_to_end(env, world, cancel_late)
    assert result.outcome == Outcome.SUCCEEDED and world.kinds() == ["hold", "charge"]


async def test_insufficient_credits_holds_nothing(env, world):
    world.balance = 3
    result = await run_to_end(env, world)
    assert (result.outcome, result.reason) == (Outcome.REJECTED, Reason.INSUFFICIENT_CREDITS)
    assert world.movements == [] and world.tasks == {}
    assert world.notifications == [Stage.REJECTED.value]


async def test_invalid_input_holds_nothing(env, world):
    world.validation_errors = [{"field": "prompt", "rule": "required", "limits": {}}]
    result = await run_to_end(env, world)
    assert (result.outcome, result.reason) == (Outcome.REJECTED, Reason.INVALID_INPUT)
    assert world.movements == [] and world.tasks == {}


async def test_blocked_user_keeps_the_charge(env, world):
    world.finish_on_submit = "succeeded"
    world.blocked = True
    result = await run_to_end(env, world)
    assert result.outcome == Outcome.SUCCEEDED and result.charged and not result.delivered
    assert world.kinds() == ["hold", "charge"]


async def test_same_request_key_is_one_workflow(env, world):
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

    world.finish_on_submit = "succeeded"
    request = GenerationRequest(user_id=1, chat_id=1, request_key="k1", model_id="m", inputs={"prompt": "x"})
    async with world.running(env.client, QUEUE):
        handles = [
            await env.client.start_workflow(
                GenerationWorkflow.run,
                request,
                id="gen-1-k1",
                task_queue=QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                execution_timeout=timedelta(hours=3),
            )
            for _ in range(3)
        ]
        assert len({h.result_run_id for h in handles}) == 1
        await handles[0].result()
    assert world.kinds() == ["hold", "charge"]
