"""The workflow worker's bounded cache (WORKER_MAX_CACHED_WORKFLOWS): a waiting generation pushed out of it is
replayed from its history when its callback comes, and ends exactly as a cached one does.

On the dev server (sticky task queues, as in production), with a cache of two and three generations waiting:
the first one waiting is the least recently used and is evicted when the third arrives.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import BUFFERED_METRIC_KIND_COUNTER, MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.models import GenerationRequest, GenerationResult, KieCallbackSignal, Outcome
from contracts.queues import telegram_task_queue
from genflow.settings import Settings
from tests.workflows.fakes import FakeWorld
from workflows.generation import GenerationWorkflow

ROOT = Path(__file__).resolve().parents[2]
CACHE = 2


class CacheMetrics:
    """The worker's sticky-cache counters, from a metric buffer on its own runtime."""

    def __init__(self) -> None:
        self.buffer = MetricBuffer(100_000)
        self.runtime = Runtime(telemetry=TelemetryConfig(metrics=self.buffer))
        self.totals: dict[str, float] = {}

    def read(self) -> dict[str, float]:
        for update in self.buffer.retrieve_updates():
            name = update.metric.name.removeprefix("temporal_")
            if update.metric.kind == BUFFERED_METRIC_KIND_COUNTER:  # each update is a delta
                self.totals[name] = self.totals.get(name, 0) + update.value
            else:
                self.totals[name] = update.value
        return dict(self.totals)


@pytest.fixture
async def cache_client(temporal_dev: WorkflowEnvironment) -> AsyncIterator[tuple[Client, CacheMetrics]]:
    metrics = CacheMetrics()
    config = temporal_dev.client.config()
    client = await Client.connect(
        config["service_client"].config.target_host,
        namespace=temporal_dev.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=metrics.runtime,
    )
    yield client, metrics


@contextlib.asynccontextmanager
async def workers(client: Client, world: FakeWorld, queue: str) -> AsyncIterator[None]:
    """Production's three workers, the main one with a cache of ``CACHE`` runs."""
    running = [
        Worker(
            client,
            task_queue=queue,
            workflows=[GenerationWorkflow],
            activities=world.activities,
            max_cached_workflows=CACHE,
        ),
        Worker(client, task_queue=telegram_task_queue(queue), activities=world.telegram_activities),
        world.kie_worker(client, queue),
    ]
    async with contextlib.AsyncExitStack() as stack:
        for worker in running:
            await stack.enter_async_context(worker)
        yield


async def start(client: Client, queue: str, n: int) -> WorkflowHandle[GenerationWorkflow, GenerationResult]:
    request = GenerationRequest(
        user_id=42,
        chat_id=42,
        request_key=uuid.uuid4().hex[:12],
        model_id="google/nano-banana",
        inputs={"prompt": f"a lighthouse #{n}"},
        status_message_id=7,
    )
    return await client.start_workflow(
        GenerationWorkflow.run,
        request,
        id=f"gen-42-{request.request_key}",
        task_queue=queue,
        result_type=GenerationResult,
    )


async def wait_for_poll_timer(handle: WorkflowHandle) -> None:
    """Until the generation waits for KIE: its last workflow task started the 30 s timer before polling.
    Read from the history, which the server serves: a query would be answered by the worker, and touch the
    cache under test."""
    for _ in range(500):
        events = (await handle.fetch_history()).events
        if events[-1].event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{handle.id} never waited for KIE")


async def test_an_evicted_generation_is_replayed_by_its_callback_and_ends_like_a_cached_one(cache_client):
    client, metrics = cache_client
    world = FakeWorld(client=client, balance=1000)
    queue = f"cache-test-{uuid.uuid4().hex[:8]}"
    async with workers(client, world, queue):
        handles = []
        for n in range(CACHE + 1):  # one more than the cache holds, each waiting before the next starts
            handles.append(await start(client, queue, n))
            await wait_for_poll_timer(handles[-1])
        oldest, newest = handles[0], handles[-1]
        tasks = {h.id: t for h, t in zip(handles, world.tasks, strict=True)}  # submitted in order
        assert world.submitted_by == [h.id for h in handles]
        counted = metrics.read()
        assert counted["sticky_cache_size"] == CACHE
        misses = counted.get("sticky_cache_miss", 0)

        # The least recently used one: not in the cache, so its callback's task replays the whole history.
        for handle in (oldest, newest):
            world.tasks[tasks[handle.id]].state = "succeeded"
            await handle.signal(GenerationWorkflow.kie_callback, KieCallbackSignal(task_id=tasks[handle.id]))
            result = await handle.result()
            assert result.outcome == Outcome.SUCCEEDED and result.charged and result.delivered
            assert result.task_id == tasks[handle.id]
            replayed = metrics.read().get("sticky_cache_miss", 0) - misses
            assert replayed == (1 if handle is oldest else 0), handle.id
            misses += replayed

    # Each charged once, nothing else moved; the one still waiting holds its credits.
    charged = [gid for kind, gid, _ in world.movements if kind == "charge"]
    assert sorted(charged) == sorted([oldest.id, newest.id])
    assert world.kinds().count("hold") == CACHE + 1 and world.held == world.price
    assert len(world.deliveries) == 2


def test_the_worker_caches_as_many_workflows_as_the_setting_says():
    """worker.py hands WORKER_MAX_CACHED_WORKFLOWS to the worker that runs the workflows (and only there)."""
    tree = ast.parse((ROOT / "worker.py").read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Worker"
    ]
    cached = {
        ast.unparse(k.value) for call in calls for k in call.keywords if k.arg == "max_cached_workflows"
    }
    with_workflows = [c for c in calls if any(k.arg == "workflows" for k in c.keywords)]
    assert len(with_workflows) == 1
    assert cached == {"settings.worker_max_cached_workflows"}
    assert any(k.arg == "max_cached_workflows" for k in with_workflows[0].keywords)
    assert Settings(_env_file=None, worker_max_cached_workflows="250").worker_max_cached_workflows == 250
