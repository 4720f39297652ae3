"""The rolling upgrade itself: generations started on version A, the worker replicas replaced one by one with
version B (``python -m testkit.upgrade.worker_b``) while they wait for KIE, more started on B, then KIE
finishes them all. :func:`testkit.upgrade.verdict.judge` says afterwards what held.

KIE's simulator is given a latency of hours and each task is finished by hand (``/_sim/tasks/<id>/complete``,
which sends the callback as KIE would), so which generations finish before, during and after the deploy is
the plan's choice, not a race.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import WorkflowHandle

from contracts.generation import KIE_TASK_ID
from contracts.models import GenerationResult
from testkit.harness import Harness

WORKER_B = [sys.executable, "-m", "testkit.upgrade.worker_b"]
MODEL = "google/nano-banana"
WAITING = (
    "WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running' AND GenerationStage = 'waiting_kie'"
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class UpgradePlan:
    generations: int = 100  # started on version A, all waiting for KIE when the deploy begins
    finish_before: int = 20  # of those, KIE finishes these before the deploy: they complete on A
    finish_during: int = 10  # ...these while one replica runs B and the other still A: either may finish them
    started_on_b: int = 10  # started once every replica runs B
    users: int = 10
    credits_per_user: int = 10_000
    within: float = 120.0  # for each wait (all waiting for KIE, a batch closed)


@dataclass
class UpgradeRun:
    plan: UpgradePlan
    users: list[int] = field(default_factory=list)
    handles: dict[str, WorkflowHandle[object, GenerationResult]] = field(default_factory=dict)
    started_on: dict[str, str] = field(default_factory=dict)  # workflow id -> "A" or "B"
    finished: dict[str, str] = field(default_factory=dict)  # workflow id -> when KIE finished it
    tasks: dict[str, str] = field(default_factory=dict)  # workflow id -> its KIE task
    versions: dict[int, str] = field(default_factory=dict)  # worker pid -> "A" or "B"
    pollers: list[str] = field(default_factory=list)  # the main queue's poller identities, mid-deploy
    in_flight: int = 0  # generations running when the deploy began
    deployed_at: datetime | None = None  # every replica runs B from here on
    timings: dict[str, float] = field(default_factory=dict)


# Called at "mixed" (one replica on each version) and "deployed" (both on B): tests run the runbook there.
Observe = Callable[[str, UpgradeRun], Awaitable[None]]


async def run_upgrade(
    h: Harness, plan: UpgradePlan, *, say: Say = print, observe: Observe | None = None
) -> UpgradeRun:
    run = UpgradeRun(plan)
    replicas = h.replicas_of("worker")
    assert len(replicas) >= 2, "a rolling upgrade needs worker replicas (Harness.start(replicas=2))"
    run.versions = {h.pid(name): "A" for name in replicas}
    previous = await h.kie_get("/_sim/config")
    knobs = {"latency": 4 * 3600.0, "latency_jitter": 0.0, "failure_share": 0.0, "callback_lost_share": 0.0}
    await h.kie_config(**knobs)
    try:
        run.users = [await h.new_user(credits=plan.credits_per_user) for _ in range(plan.users)]
        began = time.monotonic()
        await _start(h, run, "A", plan.generations)
        await _wait_waiting(h, run, plan.generations)
        say(f"{plan.generations} generations started on A, all waiting for KIE")

        await _finish(h, run, _pick(run, "A", plan.finish_before), "before")
        say(f"{plan.finish_before} finished on A before the deploy")

        run.in_flight = await h.count("WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running'")
        deploy = time.monotonic()
        for index, name in enumerate(replicas):
            await _replace(h, run, name)
            say(f"{name} runs B (pid {h.pid(name)})")
            if index == 0:
                run.pollers = await _pollers(h)
                if observe is not None:
                    await observe("mixed", run)
                await _finish(h, run, _pick(run, "A", plan.finish_during), "during")
                say(f"{plan.finish_during} finished with one replica on each version")
        run.deployed_at = datetime.now(UTC)
        run.timings["deploy_seconds"] = round(time.monotonic() - deploy, 1)
        if observe is not None:
            await observe("deployed", run)

        await _start(h, run, "B", plan.started_on_b)
        await _wait_waiting(h, run, len(run.handles) - len(run.finished))
        say(f"{plan.started_on_b} generations started on B")
        await _finish(h, run, [wid for wid in run.handles if wid not in run.finished], "after")
        run.timings["seconds"] = round(time.monotonic() - began, 1)
        say(f"KIE finished the other {len([w for w, when in run.finished.items() if when == 'after'])}")
    finally:
        await h.kie_config(**{knob: previous[knob] for knob in knobs})
    return run


async def _start(h: Harness, run: UpgradeRun, version: str, count: int) -> None:
    base = len(run.handles)
    for index in range(base, base + count):
        user = run.users[index % len(run.users)]
        handle = await h.generate(user, MODEL, {"prompt": f"a lighthouse #{index}"}, key=f"upgrade{index}")
        run.handles[handle.id] = handle
        run.started_on[handle.id] = version


async def _wait_waiting(h: Harness, run: UpgradeRun, target: int) -> None:
    """Until ``target`` generations wait for KIE; remembers each one's KIE task."""
    deadline = time.monotonic() + run.plan.within
    while True:
        async for execution in h.client.list_workflows(WAITING):
            task = execution.typed_search_attributes.get(KIE_TASK_ID)
            if task and execution.id in run.handles:
                run.tasks[execution.id] = task
        waiting = [wid for wid in run.handles if wid in run.tasks and wid not in run.finished]
        if len(waiting) >= target:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(waiting)} of {target} generations wait for KIE after {run.plan.within} s"
            )
        await asyncio.sleep(0.2)


def _pick(run: UpgradeRun, version: str, count: int) -> list[str]:
    waiting = [w for w in run.handles if run.started_on[w] == version and w not in run.finished]
    return waiting[:count]


async def _finish(h: Harness, run: UpgradeRun, ids: list[str], when: str) -> None:
    """KIE finishes these generations' tasks (its callbacks follow); returns once all of them closed."""
    for wid in ids:
        async with h.http.post(
            f"{h.kie}/_sim/tasks/{run.tasks[wid]}/complete", json={"outcome": "success"}
        ) as r:
            assert r.status == 200, await r.text()
        run.finished[wid] = when
    # A batch closes before the next replica stops: the deploy never cuts one of them off mid-task.
    await asyncio.wait_for(asyncio.gather(*(run.handles[w].result() for w in ids)), run.plan.within)


async def _replace(h: Harness, run: UpgradeRun, name: str) -> None:
    """SIGTERM one replica (it drains), start version B in its place, wait until it polls."""
    began = time.monotonic()
    await asyncio.to_thread(h.stack.stop_child, name)
    await asyncio.to_thread(h.stack.start_child, name, WORKER_B)
    await h.wait_worker()
    # Versions are told apart by pid (the SDK's identity is <pid>@<host>): a reused pid would blur them.
    assert h.pid(name) not in run.versions, f"pid {h.pid(name)} was already a worker's"
    run.versions[h.pid(name)] = "B"
    run.timings[f"replace_{name}_seconds"] = round(time.monotonic() - began, 1)


async def _pollers(h: Harness) -> list[str]:
    """Who polls the main queue for workflow tasks, as `temporal task-queue describe` lists them."""
    answer = await h.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=h.client.namespace,
            task_queue=TaskQueue(name=h.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return sorted(p.identity for p in answer.pollers)


def version_of(run: UpgradeRun, identity: str) -> str:
    """The version ("A", "B", or "?") of a worker identity (the SDK's default, ``<pid>@<host>``)."""
    pid = identity.split("@", 1)[0]
    return run.versions.get(int(pid), "?") if pid.isdigit() else "?"
