"""Row 6 of `make bench`: thousands of generations waiting for KIE on one worker, its workflow cache bounded.

The worker keeps at most WORKER_MAX_CACHED_WORKFLOWS runs in memory (least recently used out first); a
generation evicted while it waits is replayed from its history when its callback comes. The row measures
the worker's RSS with ``waiting_generations`` waiting, then callback → result in the chat for two groups:
generations still cached (started after all the others wait, as a user's next one is, and called back as
soon as they wait too) and generations evicted long ago (the oldest), each proven to be what it is before it
counts (see :func:`_cached_proof` and :func:`_evicted_proof`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from bench.cpu import cpu_share
from bench.latency import wait_idle
from bench.stats import summary_ms
from bench.worker_metrics import (
    CACHE_HIT,
    CACHE_MISS,
    CACHE_SIZE,
    FORCED_EVICTIONS,
    TASKS_RECEIVED,
    Sampler,
)
from bench.workload import MODEL, Sizes, photo_delivered, send_callback, start_many
from contracts.generation import KIE_TASK_ID
from contracts.models import Outcome
from testkit.harness import Harness
from testkit.memory import hwm_mb

# The main worker's workflow-task slots (the SDK's default, worker.py sets none): tasks received before a
# moment may reach the cache after it, so a cached proof leaves this much room.
WORKFLOW_TASK_SLOTS = 100
# Thousands of waiting runs poll KIE (the poll_tasks activity: 30 s, 1, 2, 5 min): on two cores shared with
# the Temporal server the worker's queues can run behind by more than the usual few seconds (performance.md).
IDLE_WITHIN = 300.0
MEASURE_BUDGET = 600.0  # seconds for the callbacks of both groups


@dataclass
class Started:
    index: int
    user: int
    handle: WorkflowHandle[Any, Any]
    began: float  # wall clock when its start was sent


@dataclass
class Measured:
    workflow_id: str
    idle_s: float  # from its last workflow task to its callback
    proof: dict[str, Any]
    callback_to_chat_s: float = 0.0
    tasks_at_callback: float = 0.0  # the worker's workflow-task counter just after the webhook answered
    callback_to_closed_s: float = 0.0


@dataclass
class Group:
    name: str
    samples: list[Measured] = field(default_factory=list)
    skipped: int = 0  # candidates that could not be proven cached (or evicted) and were not measured
    skipped_examples: list[dict[str, Any]] = field(default_factory=list)
    closed: int = 0  # candidates no longer running
    unproven: int = 0  # measured, but the proof failed once the callback had been answered

    def summary(self) -> dict[str, Any]:
        chat = [m.callback_to_chat_s for m in self.samples]
        return {
            "callback_to_chat": summary_ms(chat) if chat else None,
            "callback_to_closed": summary_ms([m.callback_to_closed_s for m in self.samples])
            if chat
            else None,
            "idle_before_callback_s": {
                "min": round(min(m.idle_s for m in self.samples), 1),
                "max": round(max(m.idle_s for m in self.samples), 1),
            }
            if chat
            else None,
            "candidates_skipped": self.skipped,
            "candidates_closed": self.closed,
            "skipped_examples": self.skipped_examples,
            "measured_but_unproven": self.unproven,
            "examples": [m.proof | {"workflow_id": m.workflow_id} for m in self.samples[:3]],
        }


@dataclass
class Pacer:
    """Lets start ``i`` through once fewer than ``window`` earlier ones are still without a KIE task."""

    h: Harness
    window: int
    created: int = 0  # KIE tasks so far (the simulator's count)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def run(self) -> None:
        while True:
            created = (await self.h.kie_get("/_sim/stats"))["tasks"]
            async with self.changed:
                self.created = created
                self.changed.notify_all()
            await asyncio.sleep(0.1)

    async def slot(self, i: int) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: i - self.created < self.window)


def last_task_completed(history: History) -> float:
    """Server time of the last WorkflowTaskCompleted: when the run was last touched in the worker's cache."""
    for event in reversed(history.events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return event.event_time.seconds + event.event_time.nanos / 1e9
    raise ValueError("no completed workflow task")


# ---- 6. waiting
async def waiting(h: Harness, sizes: Sizes, cache: int) -> dict[str, Any]:
    """RSS with ``waiting_generations`` waiting for KIE, and callback → chat of cached and evicted ones.

    ``cache`` is the worker's WORKER_MAX_CACHED_WORKFLOWS (the stack was started with it).
    """
    n = sizes.waiting_generations
    # A fresh worker, as row 5: earlier phases leave the allocator at its high-water mark.
    await asyncio.to_thread(h.stack.restart, "worker")
    await asyncio.to_thread(h.stack.restart, "telegram-worker")
    await h.wait_worker()
    await asyncio.sleep(2)
    pid = h.pid("worker")
    sampler = Sampler(h.http, h.stack.ports.worker_metrics, pid)
    idle = await sampler.take()
    # KIE never finishes by itself (an hour), and sends no callbacks: the bench finishes chosen tasks and
    # sends each callback itself, signed, so it knows when the webhook answered (as row 1).
    await h.kie_config(latency=3600.0, latency_jitter=0.0, callback_lost_share=1.0, failure_share=0.0)
    users = [await h.new_user(credits=1_000_000) for _ in range(200)]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    query = f'WorkflowType = "GenerationWorkflow" AND StartTime >= "{since}"'
    started: list[Started] = []
    sampler.start()
    ramp_cpu = cpu_share(h)
    began = time.time()

    # Paced: at most ``window`` generations between their start and their KIE task at once, well below the
    # cache, as when they arrive over time. A burst of all of them in one second would make every one of
    # them replay at each of its first steps (measured: 3,000 at once took 253 s to wait, not ...).
    pacer = Pacer(h, window=max(10, cache // 2))
    pacing = asyncio.get_running_loop().create_task(pacer.run())

    async def start(i: int) -> None:
        await pacer.slot(i)
        user = users[i % len(users)]
        at = time.time()
        handle = await h.generate(user, MODEL, {"prompt": f"a slow tide #{i}"})
        started.append(Started(i, user, handle, at))

    await start_many(n, sizes.start_concurrency, start)
    waiting_count = await h.wait_count(f'{query} AND GenerationStage = "waiting_kie"', n, within=1800)
    all_waiting = time.time()
    ramp = all_waiting - began
    ramp_cpu_used = ramp_cpu.result()
    started.sort(key=lambda s: s.began)
    at_rest = await sampler.take()

    # Cached and evicted, alternately, so that both see the same background (the waiting runs' KIE polls).
    cached, evicted = Group("cached"), Group("evicted")
    oldest = iter(list(started))

    async def fresh() -> AsyncIterator[Started]:
        # The most recently used runs: a generation started now is at the top of the cache once it waits.
        # (Not the newest of the ramp: by now the waiting runs' 30 s timers have touched hundreds of others.)
        for i in range(n, n + 10 * sizes.waiting_samples):
            await start(i)
            await wait_idle(started[-1].handle, need_timer=True, within=IDLE_WITHIN)  # it has its task, waits
            yield started[-1]

    async def old() -> AsyncIterator[Started]:
        for candidate in oldest:
            yield candidate

    newest = fresh()
    evicted_candidates = old()
    last_call = 0
    completed: list[float] = []  # when each measured generation closed (and left the cache)
    # Bounded: a worker that cannot keep up with its waiting runs' polls measures slowly; the row then says
    # how far it got (and fails) instead of running for hours.
    budget = time.time() + MEASURE_BUDGET
    for _ in range(sizes.waiting_samples):
        if time.time() > budget:
            break
        for group, candidates in ((cached, newest), (evicted, evicted_candidates)):
            last_call = await _measure_next(
                h, sampler, group, candidates, started, completed, cache, last_call
            )
    done = time.time()
    pacing.cancel()
    end = await sampler.take()
    await sampler.stop()

    rss_ramp = sampler.rss_between(began, all_waiting)
    rss_waiting = sampler.rss_between(all_waiting, done)
    cached_p50 = _p50(cached)
    evicted_p50 = _p50(evicted)
    return {
        "generations": n,
        "samples_wanted": sizes.waiting_samples,
        "generations_waiting": waiting_count,
        "max_cached_workflows": cache,
        "ramp_seconds": round(ramp, 1),
        "ramp_cpu": ramp_cpu_used,
        "worker_rss_mb_idle_before": round(idle.rss_mb, 1),
        "worker_rss_mb": round(max(rss_ramp + rss_waiting), 1),
        "worker_rss_mb_max_during_ramp": round(max(rss_ramp), 1),
        "worker_rss_mb_max_while_all_wait": round(max(rss_waiting), 1),
        "worker_peak_rss_mb_lifetime": round(hwm_mb(pid), 1),
        "rss_samples": len(rss_ramp) + len(rss_waiting),
        "cache": {
            "size_when_all_wait": at_rest.metrics[CACHE_SIZE],
            "hits": end.metrics[CACHE_HIT] - idle.metrics[CACHE_HIT],
            "misses": end.metrics[CACHE_MISS] - idle.metrics[CACHE_MISS],
            "misses_during_ramp": at_rest.metrics[CACHE_MISS] - idle.metrics[CACHE_MISS],
            "forced_evictions": end.metrics[FORCED_EVICTIONS] - idle.metrics[FORCED_EVICTIONS],
            "workflow_tasks": end.metrics[TASKS_RECEIVED] - idle.metrics[TASKS_RECEIVED],
            "workflow_tasks_per_second_while_measuring": round(
                (end.metrics[TASKS_RECEIVED] - at_rest.metrics[TASKS_RECEIVED]) / (done - all_waiting), 1
            ),
        },
        "kie_status_polls": (await h.kie_get("/_sim/stats")).get("status_queries"),
        "measuring_seconds": round(done - all_waiting, 1),
        "cached": cached.summary(),
        "evicted": evicted.summary(),
        "ratio_p50": round(evicted_p50 / cached_p50, 2) if cached_p50 and evicted_p50 else None,
    }


def _p50(group: Group) -> float | None:
    summary = group.summary()["callback_to_chat"]
    return summary["p50_ms"] if summary else None


async def _measure_next(
    h: Harness,
    sampler: Sampler,
    group: Group,
    candidates: AsyncIterator[Started],
    started: list[Started],
    completed: list[float],
    cache: int,
    last_call: int,
) -> int:
    """Measure the next candidate of ``group`` that can be proven cached (or evicted); returns the seq of
    the last Telegram call seen."""
    async for candidate in candidates:
        description = await candidate.handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            group.closed += 1  # its deadline passed (the image deadline is 15 min): not waiting any more
            continue
        task_id = description.typed_search_attributes.get(KIE_TASK_ID)
        assert task_id, f"{candidate.handle.id} has no KieTaskId"
        history = await wait_idle(candidate.handle, need_timer=True, within=IDLE_WITHIN)
        touched = last_task_completed(history)
        now = await sampler.take()
        if group.name == "cached":
            proof = _cached_proof(sampler, touched, now.metrics[TASKS_RECEIVED], cache)
        else:
            proof = _evicted_proof(sampler, started, completed, touched, now.metrics[CACHE_MISS], cache)
        if not proof["proven"]:
            group.skipped += 1
            if len(group.skipped_examples) < 3:
                group.skipped_examples.append(proof | {"workflow_id": candidate.handle.id})
            continue
        measured, last_call = await _callback_to_chat(
            h, sampler, candidate, task_id, touched, proof, last_call
        )
        completed.append(time.time())
        if group.name == "cached":
            # Proven again with the counter read once the webhook had answered: nothing evicted it meanwhile.
            after = _cached_proof(sampler, touched, measured.tasks_at_callback, cache)
            measured.proof = after
            if not after["proven"]:
                group.unproven += 1
                return last_call
        group.samples.append(measured)
        return last_call
    return last_call


def _cached_proof(sampler: Sampler, touched: float, tasks_now: float, cache: int) -> dict[str, Any]:
    """Cached for sure when fewer than ``cache`` runs can have been touched since it was: every workflow
    task touches one run, so fewer tasks than the cache holds (less the slots of tasks that may have been
    received before and processed after) cannot have pushed it out of an LRU of that size."""
    before = sampler.read_before(TASKS_RECEIVED, touched - 1.0)
    if before is None:
        return {"proven": False, "why": "no counter sample before its last task"}
    since = tasks_now - before
    return {"proven": since + WORKFLOW_TASK_SLOTS < cache, "workflow_tasks_since": since}


def _evicted_proof(
    sampler: Sampler,
    started: list[Started],
    completed: list[float],
    touched: float,
    misses_now: float,
    cache: int,
) -> dict[str, Any]:
    """Evicted for sure when at least ``cache`` runs entered the cache after its last workflow task: each
    entry (a new generation, or a cache miss replaying an evicted one) puts a run above it in the LRU order,
    and only the runs that closed since (the bench's own) or were still being let in (at most the task
    slots) leave room; in an LRU of that size it cannot have stayed."""
    newer = sum(1 for s in started if s.began > touched)
    after = sampler.read_after(CACHE_MISS, touched)
    misses = misses_now - after if after is not None else 0.0
    closed = sum(1 for at in completed if at > touched)
    entered = newer + misses - closed - WORKFLOW_TASK_SLOTS
    return {
        "proven": entered >= cache,
        "started_since": newer,
        "cache_misses_since": misses,
        "closed_since": closed,
    }


async def _callback_to_chat(
    h: Harness,
    sampler: Sampler,
    s: Started,
    task_id: str,
    touched: float,
    proof: dict[str, Any],
    last_call: int,
) -> tuple[Measured, int]:
    """KIE finishes the task now; the bench sends its signed callback and waits for the photo in the chat."""
    async with h.http.post(f"{h.kie}/_sim/tasks/{task_id}/complete", json={"outcome": "success"}) as response:
        assert response.status == 200, await response.text()
    calls = await h.telegram_calls("sendPhoto", after=last_call)
    last_call = max([last_call, *(c["seq"] for c in calls)])
    answered = await send_callback(h, s.handle.id, task_id)
    measured = Measured(s.handle.id, answered - touched, proof)
    # The end is stamped by the Telegram simulator, so reading the worker's counters here delays nothing.
    measured.tasks_at_callback = (await sampler.take()).metrics[TASKS_RECEIVED]
    delivered, last_call = await photo_delivered(h, s.user, last_call)
    measured.callback_to_chat_s = delivered - answered
    result = await s.handle.result()
    measured.callback_to_closed_s = time.time() - answered
    assert result.outcome == Outcome.SUCCEEDED, f"{s.handle.id}: {result.outcome} {result.detail}"
    return measured, last_call
