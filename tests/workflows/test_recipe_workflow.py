"""RecipeWorkflow on Temporal's time-skipping server: a child generation per step, the whole price held
before the first, each step charged when it succeeds, the rest released on a failure, a timeout or a cancel;
a worker killed mid-chain; an old result handed on from Telegram rather than by KIE's URL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts import generation
from contracts.ids import recipe_step_id
from contracts.models import Outcome, Stage
from contracts.recipes import RecipeRequest, RecipeResult, StepRequest
from tests.workflows.recipe_world import RecipeWorld
from workflows.recipe import RecipeWorkflow

QUEUE = "recipe-test"
USER = 42


@pytest.fixture
def world(env: WorkflowEnvironment) -> RecipeWorld:
    return RecipeWorld(client=env.client, balance=100)


def three_steps(second_prompt: str = "it moves") -> RecipeRequest:
    return RecipeRequest(
        user_id=USER,
        chat_id=USER,
        request_key=uuid.uuid4().hex[:12],
        recipe_id="clip-hd",
        steps=[
            StepRequest(model_id="google/nano-banana", inputs={"prompt": "a boat"}),
            StepRequest(
                model_id="kling-2.6/image-to-video",
                inputs={"prompt": second_prompt},
                from_previous="image_urls",
                from_previous_is_list=True,
            ),
            StepRequest(model_id="topaz/video-upscale", inputs={}, from_previous="video_url"),
        ],
        status_message_id=9,
    )


async def start(env: WorkflowEnvironment, request: RecipeRequest) -> WorkflowHandle:
    return await env.client.start_workflow(
        RecipeWorkflow.run,
        request,
        id=f"recipe-{USER}-{request.request_key}",
        task_queue=QUEUE,
        result_type=RecipeResult,
    )


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


def step(request: RecipeRequest, index: int) -> str:
    return recipe_step_id(USER, request.request_key, index)


async def test_every_step_runs_on_the_previous_result_and_is_charged_once(env, world):
    request = three_steps()
    async with world.running(env.client, QUEUE):
        result = await (await start(env, request)).result()
    assert result.outcome == Outcome.SUCCEEDED and (result.charged, result.refunded) == (60, 0)
    # The whole price was held before the first step; each step charged its own hold.
    kinds = [(kind, gid) for kind, gid, _ in world.movements]
    assert kinds[:3] == [("hold", step(request, i)) for i in range(3)]
    assert sorted(kinds[3:]) == sorted(("charge", step(request, i)) for i in range(3))
    assert (world.balance, world.held) == (40, 0)
    # Each step got the previous one's result (a list where the input takes a list).
    first, second = world.tasks["task-1"], world.tasks["task-2"]
    assert world.submitted_inputs[step(request, 1)]["image_urls"] == [
        f"https://kie.example/{first.task_id}.png"
    ]
    assert (
        world.submitted_inputs[step(request, 2)]["video_url"] == f"https://kie.example/{second.task_id}.png"
    )
    assert len(world.deliveries) == 3
    # The steps are quiet; the recipe's message said which step ran, then the outcome of each.
    assert world.notifications == []
    assert [n.running for n in world.notices] == [0, 1, 2, None]
    assert world.notices[-1].finished and all(s.charged for s in world.notices[-1].steps)


async def test_a_failed_middle_step_releases_it_and_every_later_step(env, world):
    request = three_steps(second_prompt="it moves [fail]")
    async with world.running(env.client, QUEUE):
        result = await (await start(env, request)).result()
    assert result.outcome == Outcome.FAILED and (result.charged, result.refunded) == (10, 50)
    assert ("charge", step(request, 0), 10) in world.movements
    assert ("release", step(request, 1), 20) in world.movements
    assert ("release", step(request, 2), 30) in world.movements
    assert world.open_holds() == [] and (world.balance, world.held) == (90, 0)
    assert step(request, 2) not in world.submitted_inputs  # never ran
    outcomes = [s.outcome for s in world.notices[-1].steps]
    assert outcomes == [Outcome.SUCCEEDED, Outcome.FAILED, None]


async def test_a_step_that_times_out_is_released_with_the_rest(env, world):
    request = three_steps(second_prompt="it moves [slow]")
    async with world.running(env.client, QUEUE):
        result = await (await start(env, request)).result()  # the step's 15-minute deadline, skipped
    assert result.outcome == Outcome.FAILED and result.steps[1].reason is not None
    assert result.steps[1].reason.value == "timed_out"
    assert world.open_holds() == [] and (world.balance, world.held) == (90, 0)


async def test_a_cancel_between_steps_releases_the_rest(env, world):
    request = three_steps()
    world.finish_on_submit = None  # the first step waits for its callback: cancel meanwhile
    async with world.running(env.client, QUEUE):
        handle = await start(env, request)
        with env.auto_time_skipping_disabled():
            await until(lambda: "task-1" in world.tasks)
            accepted = await generation.cancel(handle)
            assert accepted.accepted
            world.tasks["task-1"].state = "succeeded"  # the running step still finishes, and is charged
        result = await handle.result()
    assert result.outcome == Outcome.CANCELLED and (result.charged, result.refunded) == (10, 50)
    assert [k for k, gid, _ in world.movements if gid == step(request, 0)] == ["hold", "charge"]
    assert world.open_holds() == [] and world.notices[-1].cancelled


async def test_not_enough_credits_holds_nothing_and_says_how_many(env, world):
    world.balance = 50
    request = three_steps()
    async with world.running(env.client, QUEUE):
        result = await (await start(env, request)).result()
    assert result.outcome == Outcome.REJECTED and world.movements == []
    assert world.notices[-1].shortfall == 10 and world.submitted_inputs == {}


async def test_a_worker_killed_mid_chain_finishes_once(env, world):
    request = three_steps()
    world.finish_on_submit = None  # the first step waits on KIE when its worker dies
    world.cache_workflows = False
    async with world.running(env.client, QUEUE):
        handle = await start(env, request)
        first = env.client.get_workflow_handle(step(request, 0))
        with env.auto_time_skipping_disabled():
            for _ in range(500):  # the submit is done (not in flight): the step waits on KIE
                if "task-1" in world.tasks and (await generation.status(first)).stage == Stage.WAITING:
                    break
                await asyncio.sleep(0.02)
    # KIE finishes meanwhile; a new worker process picks the recipe and its step up from their histories.
    world.tasks["task-1"].state = "succeeded"
    world.finish_on_submit = "succeeded"
    world.cache_workflows = True
    async with world.running(env.client, QUEUE):
        result = await handle.result()
    assert result.outcome == Outcome.SUCCEEDED
    for index in range(3):
        kinds = [k for k, gid, _ in world.movements if gid == step(request, index)]
        assert kinds == ["hold", "charge"]


async def test_an_old_result_goes_on_from_telegram_not_from_an_expired_url(env, world):
    # The first step's delivery hit Telegram's limits for a while: by the time the second step starts, KIE's
    # URL of the first result is older than it stays valid, so the next step gets the file from Telegram.
    world.deliver_failures = 1  # retried after an hour
    request = three_steps()
    request.steps = request.steps[:2]
    request.result_url_fresh_seconds = 1800
    async with world.running(env.client, QUEUE):
        result = await (await start(env, request)).result()
    assert result.outcome == Outcome.SUCCEEDED
    assert world.submitted_inputs[step(request, 1)]["image_urls"] == ["file-1"]
