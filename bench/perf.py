"""`make bench`: latency, throughput, webhook, cost and memory of Genflow, each beside its floor, in one run.

Every figure is measured on one freshly started stack (``bench.harness.Harness``): the Temporal dev server,
PostgreSQL, both simulators, the worker, the Telegram worker and the webhooks server as separate processes,
on this machine.
Floors run on the same Temporal server, in processes of their own, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from bench.floor import FLOOR_TASK_QUEUE, FloorPlan, FloorWorkflow
from bench.harness import (
    Harness,
    activity_names,
    child_process,
    count_actions,
    event_census,
    hwm_mb,
    machine,
    percentile,
    print_table,
    summary_ms,
    write_results,
)
from bench.surge import SurgePlan, run_surge
from bench.surge import verdict as surge_verdict
from genflow.embedded import free_port
from workflows.generation import GenerationWorkflow

MODEL = "google/nano-banana"  # Market text-to-image: the commonest generation, one file, 4 credits


@dataclass
class Sizes:
    latency_runs: int = 50
    throughput_generations: int = 1000
    webhook_callbacks: int = 2000
    webhook_concurrency: int = 100
    memory_generations: int = 2000
    start_concurrency: int = 50
    surge_scale: float = 1.0  # the surge row's size: 1.0 is 1,000 requests from 200 users
    surge_keys: tuple[int, ...] = (1, 3)  # KIE keys of each surge run


WORKFLOW_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


# ---- helpers
async def wait_idle(handle: WorkflowHandle, *, need_timer: bool, within: float = 30) -> Any:
    """Until the workflow sits waiting: its last event is a completed workflow task, no activity pending."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        events = history.events
        open_activities = set()
        timer = False
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                open_activities.add(event.event_id)
            elif event.event_type in (
                EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
            ):
                attrs = (
                    event.activity_task_completed_event_attributes
                    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                    else event.activity_task_failed_event_attributes
                    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
                    else event.activity_task_timed_out_event_attributes
                    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT
                    else event.activity_task_canceled_event_attributes
                )
                open_activities.discard(attrs.scheduled_event_id)
            elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                timer = True
        task_events = [e.event_type for e in events if e.event_type in WORKFLOW_TASK_EVENTS]
        if (
            task_events
            and task_events[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            and not open_activities
            and (timer or not need_timer)
        ):
            return history
        await asyncio.sleep(0.01)
    names = [EventType.Name(e.event_type) for e in (await handle.fetch_history()).events]
    raise TimeoutError(f"{handle.id} never became idle: {names[-8:]}")


def market_callback(task_id: str) -> dict[str, Any]:
    """A Market success callback as KIE sends it (the webhook reads only the task id)."""
    return {
        "code": 200,
        "msg": "Playground task completed successfully.",
        "data": {"taskId": task_id, "state": "success", "model": MODEL, "callbackType": None},
    }


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


# ---- 1 + 4. latency and cost
async def latency_and_cost(h: Harness, sizes: Sizes) -> dict[str, Any]:
    """Callback answered 200 → result message in the Telegram simulator, over sequential generations.

    KIE's own callbacks are switched off (``callback_lost_share=1``): the benchmark sends each callback itself
    (signed, valid token) once the simulated task is final, and knows exactly when the webhook answered.
    The end is the simulator's record of the ``sendPhoto`` call, stamped when it was answered.
    """
    await h.kie_config(latency=0.1, latency_jitter=0.0, callback_lost_share=1.0, failure_share=0.0)
    user = await h.new_user(credits=1_000_000)
    samples: list[float] = []
    closed: list[float] = []
    histories = []
    warmup = 3
    last_call = 0
    for i in range(warmup + sizes.latency_runs):
        handle = await h.generate(user, MODEL, {"prompt": f"a lighthouse at dawn, take {i}"})
        await wait_idle(handle, need_timer=True)
        status = await handle.query(GenerationWorkflow.status)
        task_id = status.task_ids[0]
        await h.wait_kie_final(task_id)
        calls = await h.telegram_calls("sendPhoto", after=last_call)
        last_call = max([last_call, *(c["seq"] for c in calls)])
        async with h.http.post(
            h.callback_url(handle.id), json=market_callback(task_id), headers=h.signed_headers(task_id)
        ) as response:
            await response.read()
            answered = time.time()
            assert response.status == 200, response.status
        delivered = None
        while delivered is None:
            calls = await h.telegram_calls("sendPhoto", after=last_call)
            mine = [c for c in calls if int(c["params"].get("chat_id", 0)) == user and c["ok"]]
            if mine:
                delivered = mine[0]["at"]
                last_call = max(c["seq"] for c in calls)
            else:
                await asyncio.sleep(0.002)
        await handle.result()
        done = time.time()
        if i >= warmup:
            samples.append(delivered - answered)
            closed.append(done - answered)
            histories.append(await handle.fetch_history())

    after_signal = activity_names(histories[0], after_signal=True)
    everything = activity_names(histories[0])
    before = len(everything) - len(after_signal)

    # The floor: same server, a bare workflow, one signal, the same number of no-op activities after it.
    floor_samples: list[float] = []
    with child_process(
        ["-m", "bench.floor", "--address", f"127.0.0.1:{h.stack.ports.temporal}"], ready_line="ready"
    ):
        for i in range(warmup + sizes.latency_runs):
            handle = await h.client.start_workflow(
                FloorWorkflow.run,
                FloorPlan(before=before, after=len(after_signal)),
                id=f"floor-latency-{uuid.uuid4().hex[:8]}-{i}",
                task_queue=FLOOR_TASK_QUEUE,
            )
            await wait_idle(handle, need_timer=False)
            await handle.signal("kie_callback", {"task_id": "t", "callback_type": None})
            signalled = time.time()
            stamps = await handle.result()
            if i >= warmup:
                floor_samples.append(stamps[-1] - signalled)

    gen = summary_ms(samples)
    floor = summary_ms(floor_samples)
    costs = [count_actions(history) for history in histories]
    events = [len(history.events) for history in histories]
    typical = costs[len(costs) // 2]
    return {
        "latency": {
            "what": "webhook 200 -> sendPhoto answered by the Telegram simulator",
            "generation": gen,
            "generation_to_workflow_closed": summary_ms(closed),
            "floor": floor,
            "floor_shape": {"activities_before_signal": before, "activities_after_signal": after_signal},
            "ratio_p50": round(gen["p50_ms"] / floor["p50_ms"], 2),
            "ratio_p95": round(gen["p95_ms"] / floor["p95_ms"], 2),
        },
        "cost": {
            "generations": len(histories),
            "history_events": {"min": min(events), "max": max(events), "median": percentile(events, 50)},
            "actions_median": percentile([c["total"] for c in costs], 50),
            "actions_max": max(c["total"] for c in costs),
            "actions_by_kind": typical,
            "activities": everything,
            "event_census": event_census(histories[len(histories) // 2]),
            "heartbeats_not_in_history": "deliver_result heartbeats once per file sent (1 here)",
        },
    }


# ---- 2. throughput
async def throughput(h: Harness, sizes: Sizes, shape: dict[str, Any]) -> dict[str, Any]:
    """Completed generations per second through the whole stack, KIE finishing in about 1 s, callbacks on."""
    n = sizes.throughput_generations
    await h.kie_config(latency=1.0, latency_jitter=0.2, callback_lost_share=0.0, failure_share=0.0)
    users = [await h.new_user(credits=1_000_000) for _ in range(100)]
    started_at = time.time()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at - 1))
    query = f'WorkflowType = "GenerationWorkflow" AND StartTime >= "{since}"'

    async def start(i: int):
        return await h.generate(users[i % len(users)], MODEL, {"prompt": f"a harbour at night #{i}"})

    cpu = h.cpu()
    handles = await start_many(n, sizes.start_concurrency, start)
    started = time.time()
    done = await h.wait_count(f'{query} AND ExecutionStatus != "Running"', n, within=900)
    finished = time.time()
    gen_cpu = cpu.result()
    outcomes = await _outcomes(h, [hd.id for hd in handles])
    closes = await _close_times(h, query)
    gen_rate = n / (max(closes) - started_at) if closes else 0.0

    before = shape["activities_before_signal"]
    after = len(shape["activities_after_signal"])
    with child_process(
        ["-m", "bench.floor", "--address", f"127.0.0.1:{h.stack.ports.temporal}"], ready_line="ready"
    ):
        cpu = h.cpu()
        floor_started_at = time.time()
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(floor_started_at - 1))
        floor_query = f'WorkflowType = "FloorWorkflow" AND StartTime >= "{since}"'
        signals: list[asyncio.Task] = []

        async def start_floor(i: int):
            handle = await h.client.start_workflow(
                FloorWorkflow.run,
                FloorPlan(before=before, after=after),
                id=f"floor-tp-{uuid.uuid4().hex[:12]}",
                task_queue=FLOOR_TASK_QUEUE,
            )

            async def later() -> None:  # the "callback", about when KIE would send it
                await asyncio.sleep(1.0)
                await handle.signal("kie_callback", {"task_id": f"t{i}", "callback_type": None})

            signals.append(asyncio.create_task(later()))
            return handle

        await start_many(n, sizes.start_concurrency, start_floor)
        await asyncio.gather(*signals)
        floor_done = await h.wait_count(f'{floor_query} AND ExecutionStatus = "Completed"', n, within=900)
        floor_closes = await _close_times(h, floor_query)
        floor_cpu = cpu.result()
    floor_rate = n / (max(floor_closes) - floor_started_at) if floor_closes else 0.0
    return {
        "generations": n,
        "completed": done,
        "outcomes": outcomes,
        "start_phase_seconds": round(started - started_at, 2),
        "wall_seconds": round(finished - started_at, 2),
        "generations_per_second": round(gen_rate, 2),
        "floor_completed": floor_done,
        "floor_per_second": round(floor_rate, 2),
        "floor_shape": {"before": before, "after": after, "signal_after_seconds": 1.0},
        "ratio": round(gen_rate / floor_rate, 2) if floor_rate else None,
        "cpu_generations": gen_cpu,
        "cpu_floor": floor_cpu,
    }


async def _close_times(h: Harness, query: str) -> list[float]:
    closes = []
    async for execution in h.client.list_workflows(query, page_size=1000):
        if execution.close_time is not None:
            closes.append(execution.close_time.timestamp())
    return closes


async def _outcomes(h: Harness, ids: list[str]) -> dict[str, int]:
    rows = await h.pool.fetch(
        "SELECT status, count(*) AS n FROM generations WHERE id = ANY($1) GROUP BY status", ids
    )
    delivered = await h.pool.fetchval(
        "SELECT count(*) FROM generations WHERE id = ANY($1) AND telegram_file_ids IS NOT NULL", ids
    )
    return {**{row["status"]: row["n"] for row in rows}, "delivered": delivered}


# ---- 3. webhook
async def webhook(h: Harness, sizes: Sizes) -> dict[str, Any]:
    """KIE callbacks at concurrency 100 against the real endpoint, and against a bare signal-only handler.

    The targets are generation ids started on a queue no worker polls: a signal lands in the history and
    nothing else runs, so both servers are measured on the signal path alone.
    """
    n, concurrency = sizes.webhook_callbacks, sizes.webhook_concurrency
    targets = [f"gen-{900_000_000 + i}-sink{uuid.uuid4().hex[:8]}" for i in range(max(1, n // 5))]

    async def start_sink(i: int) -> None:
        await h.client.start_workflow(
            "GenerationWorkflow", {}, id=targets[i], task_queue="bench-sink-no-worker"
        )

    await start_many(len(targets), sizes.start_concurrency, start_sink)
    port = free_port()
    results: dict[str, Any] = {}
    with child_process(
        [
            "-m",
            "bench.floor_webhook",
            "--address",
            f"127.0.0.1:{h.stack.ports.temporal}",
            "--port",
            str(port),
        ],
        port=port,
    ):
        floor_base = f"http://127.0.0.1:{port}"
        # Warm both up (connections, caches), then measure each twice, interleaved, and pool the samples.
        for base in (h.webhooks, floor_base):
            await _fire(h, base, targets, 200, concurrency)
        samples: dict[str, list[float]] = {"webhooks": [], "floor": []}
        statuses: dict[str, dict[int, int]] = {"webhooks": {}, "floor": {}}
        for _round in range(2):
            for label, base in (("webhooks", h.webhooks), ("floor", floor_base)):
                times, codes = await _fire(h, base, targets, n // 2, concurrency)
                samples[label] += times
                for code, count in codes.items():
                    statuses[label][code] = statuses[label].get(code, 0) + count
    for label in samples:
        results[label] = {
            **summary_ms(samples[label]),
            "statuses": statuses[label],
            "over_15s": sum(t > 15 for t in samples[label]),
        }
    results["ratio_p99"] = round(results["webhooks"]["p99_ms"] / results["floor"]["p99_ms"], 2)
    results["ratio_p50"] = round(results["webhooks"]["p50_ms"] / results["floor"]["p50_ms"], 2)
    results["callbacks"] = n
    results["concurrency"] = concurrency
    results["signed"] = True
    return results


async def _fire(
    h: Harness, base: str, targets: list[str], count: int, concurrency: int
) -> tuple[list[float], dict[int, int]]:
    times: list[float] = []
    codes: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                target = targets[i % len(targets)]
                task_id = uuid.uuid4().hex
                url = h.callback_url(target).replace(h.webhooks, base)
                body = market_callback(task_id)
                headers = h.signed_headers(task_id)
                began = time.perf_counter()
                async with session.post(url, json=body, headers=headers) as response:
                    await response.read()
                times.append(time.perf_counter() - began)
                codes[response.status] = codes.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return times, codes


# ---- 5. memory
async def memory(h: Harness, sizes: Sizes) -> dict[str, Any]:
    """Worker RSS with ``memory_generations`` generations waiting for KIE (tasks that take an hour).

    The figure is the workflow worker's (``worker.py``), which caches the waiting workflows; the Telegram
    worker (aiogram, no workflows) is measured beside it, before and after, to show it does not grow.
    """
    n = sizes.memory_generations
    # Earlier phases left the workers at their allocator's high-water mark: measure fresh ones (a deploy).
    after_earlier_phases = h.rss_mb("worker")
    await asyncio.to_thread(h.stack.restart, "worker")
    await asyncio.to_thread(h.stack.restart, "telegram-worker")
    await h.wait_worker()
    await asyncio.sleep(2)
    pid = h.pid("worker")
    baseline = h.rss_mb("worker")
    telegram_baseline = h.rss_mb("telegram-worker")
    await h.kie_config(latency=3600.0, latency_jitter=0.0, callback_lost_share=0.0, failure_share=0.0)
    users = [await h.new_user(credits=1_000_000) for _ in range(200)]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    query = f'WorkflowType = "GenerationWorkflow" AND StartTime >= "{since}"'
    began = time.time()

    async def start(i: int):
        return await h.generate(users[i % len(users)], MODEL, {"prompt": f"a slow sunset #{i}"})

    await start_many(n, sizes.start_concurrency, start)
    waiting = await h.wait_count(f'{query} AND GenerationStage = "waiting_kie"', n, within=900)
    ramp = time.time() - began
    await asyncio.sleep(5)  # the last status messages go out
    samples, telegram_samples = [], []
    for _ in range(10):
        samples.append(h.rss_mb("worker"))
        telegram_samples.append(h.rss_mb("telegram-worker"))
        await asyncio.sleep(0.5)
    return {
        "generations_waiting": waiting,
        "ramp_seconds": round(ramp, 1),
        "worker_rss_mb_idle_after_earlier_phases": round(after_earlier_phases, 1),
        "worker_rss_mb_idle_before": round(baseline, 1),
        "worker_rss_mb": round(max(samples), 1),
        "worker_rss_mb_per_waiting_generation_kb": round((max(samples) - baseline) * 1024 / max(1, n), 1),
        "worker_peak_rss_mb_lifetime": round(hwm_mb(pid), 1),
        "telegram_worker_rss_mb_idle_before": round(telegram_baseline, 1),
        "telegram_worker_rss_mb": round(max(telegram_samples), 1),
        "other_processes_rss_mb": {
            name: round(h.rss_mb(name), 1)
            for name in ("webhooks", "kie-simulator", "telegram-simulator")
            if h.alive(name)
        },
    }


# ---- the run
TARGETS = {
    "latency": "p50 and p95 <= 1.5x floor",
    "throughput": ">= 0.7x floor",
    "webhook": "p99 <= 1.3x floor, all < 15 s",
    "cost": "<= 12 actions per generation",
    "memory": "worker RSS <= 300 MB",
    "surge": "0 429s, drain <= 1.1x, light p95 <= 1.2x fair",
}


def _others(r: dict[str, Any], phase: str) -> str:
    cpu = r.get(phase, {}).get("cpu")
    return f"{cpu['others_share_of_machine'] * 100:.0f}%" if cpu else "-"


def verdicts(r: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []

    def row(key: str, ok: bool, measure: str, ours: str, floor: str, ratio: str, *, phase: str = "") -> None:
        # ``phase``: whose CPU share to show (cost is read from the latency phase's histories).
        verdict = "PASS" if ok else "MISS"
        rows.append([measure, ours, floor, ratio, TARGETS[key], verdict, _others(r, phase or key)])

    if "latency" in r:
        lat = r["latency"]
        ok = lat["ratio_p50"] <= 1.5 and lat["ratio_p95"] <= 1.5
        row(
            "latency",
            ok,
            "1 latency callback->chat",
            f"p50 {lat['generation']['p50_ms']} ms, p95 {lat['generation']['p95_ms']} ms",
            f"p50 {lat['floor']['p50_ms']} ms, p95 {lat['floor']['p95_ms']} ms",
            f"{lat['ratio_p50']}x / {lat['ratio_p95']}x",
        )
    if "throughput" in r:
        tp = r["throughput"]
        ok = tp["ratio"] is not None and tp["ratio"] >= 0.7 and tp["completed"] == tp["generations"]
        row(
            "throughput",
            ok,
            f"2 throughput ({tp['generations']} gens)",
            f"{tp['generations_per_second']}/s",
            f"{tp['floor_per_second']}/s",
            f"{tp['ratio']}x",
        )
    if "webhook" in r:
        wh = r["webhook"]
        ok = (
            wh["ratio_p99"] <= 1.3
            and wh["webhooks"]["over_15s"] == 0
            and set(wh["webhooks"]["statuses"]) == {200}
        )
        row(
            "webhook",
            ok,
            f"3 webhook ({wh['callbacks']} @ {wh['concurrency']})",
            f"p50 {wh['webhooks']['p50_ms']} ms, p99 {wh['webhooks']['p99_ms']} ms",
            f"p50 {wh['floor']['p50_ms']} ms, p99 {wh['floor']['p99_ms']} ms",
            f"{wh['ratio_p50']}x / {wh['ratio_p99']}x",
        )
    if "cost" in r:
        cost = r["cost"]
        ok = cost["actions_median"] <= 12
        row(
            "cost",
            ok,
            "4 cost per generation",
            f"{cost['actions_median']:g} actions, {cost['history_events']['median']:g} events",
            "-",
            "-",
            phase="latency",
        )
    if "memory" in r:
        mem = r["memory"]
        ok = mem["worker_rss_mb"] <= 300
        row(
            "memory",
            ok,
            f"5 memory ({mem['generations_waiting']} waiting)",
            f"{mem['worker_rss_mb']} MB",
            f"idle {mem['worker_rss_mb_idle_before']} MB",
            f"telegram-worker {mem['telegram_worker_rss_mb_idle_before']} -> "
            f"{mem['telegram_worker_rss_mb']} MB",
        )
    for keys, surge in sorted(r.get("surge", {}).items()):
        ok, _text = surge_verdict(surge)
        row(
            "surge",
            ok,
            f"6 surge ({surge['requests']} reqs, {keys} key{'s' if int(keys) > 1 else ''})",
            f"429s {surge['kie_429']}, drain {surge['drain_seconds']} s, "
            f"light p95 {surge['light_wait_p95_s']} s, first p95 {surge['light_first_wait_p95_s']} s, "
            f"edits {surge['edits_max_per_second']}/s",
            f"ideal drain {surge['ideal_drain_seconds']} s, fair p95 {surge['ideal_light_wait_p95_s']} s, "
            f"first {surge['ideal_light_first_wait_p95_s']} s "
            f"(FIFO {surge['fifo_light_first_wait_p95_s']} s)",
            f"{surge['drain_ratio']}x / {surge['light_wait_ratio']}x",
            phase="none",
        )
    return rows


async def run(sizes: Sizes, only: set[str], temporal_db: str = "memory") -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine(),
        "sizes": sizes.__dict__,
        "command": "python -m bench " + " ".join(sys.argv[1:]),
    }
    began = time.time()
    results["temporal_persistence"] = temporal_db
    if only - {"surge"}:
        await _one_stack(results, sizes, only, temporal_db)
    if "surge" in only:
        # Stacks of their own: KIE's real limit, one key and then three.
        results["surge"] = {}
        for keys in sizes.surge_keys:
            results["surge"][keys] = await run_surge(keys, SurgePlan().scaled(sizes.surge_scale), say=_say)
            _say(surge_verdict(results["surge"][keys])[1])
    results["seconds"] = round(time.time() - began, 1)
    return results


async def _one_stack(results: dict[str, Any], sizes: Sizes, only: set[str], temporal_db: str) -> None:
    """Latency, cost, throughput, webhook and memory, on one stack with KIE's limit raised."""
    async with Harness.start(prefix="genflow-bench-", temporal_in_memory=temporal_db == "memory") as h:
        results["settings"] = {
            "KIE_RATE_LIMIT_TASKS": h.stack.env["KIE_RATE_LIMIT_TASKS"],
            "KIE_RATE_LIMIT_PERIOD_SECONDS": h.stack.env["KIE_RATE_LIMIT_PERIOD_SECONDS"],
            "LOG_LEVEL": h.stack.env["LOG_LEVEL"],
        }
        shape = None
        if only & {"latency", "cost", "throughput"}:
            _say("latency + cost: sequential generations and the bare-workflow floor")
            cpu = h.cpu()
            lc = await latency_and_cost(h, sizes)
            results["latency"], results["cost"] = lc["latency"], lc["cost"]
            results["latency"]["cpu"] = cpu.result()
            shape = results["latency"]["floor_shape"]
        if "throughput" in only:
            _say(f"throughput: {sizes.throughput_generations} generations, then the floor")
            assert shape is not None
            cpu = h.cpu()
            results["throughput"] = await throughput(h, sizes, shape)
            results["throughput"]["cpu"] = cpu.result()
        if "webhook" in only:
            _say(f"webhook: {sizes.webhook_callbacks} callbacks at concurrency {sizes.webhook_concurrency}")
            cpu = h.cpu()
            results["webhook"] = await webhook(h, sizes)
            results["webhook"]["cpu"] = cpu.result()
        if "memory" in only:
            _say(f"memory: {sizes.memory_generations} generations waiting for KIE")
            cpu = h.cpu()
            results["memory"] = await memory(h, sizes)
            results["memory"]["cpu"] = cpu.result()


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="latency,cost,throughput,webhook,memory,surge")
    parser.add_argument("--latency-runs", type=int, default=Sizes.latency_runs)
    parser.add_argument("--throughput", type=int, default=Sizes.throughput_generations)
    parser.add_argument("--webhook-callbacks", type=int, default=Sizes.webhook_callbacks)
    parser.add_argument("--memory", type=int, default=Sizes.memory_generations)
    parser.add_argument(
        "--surge-scale", type=float, default=Sizes.surge_scale, help="0.2: 200 requests from 40 users"
    )
    parser.add_argument("--surge-keys", default="1,3", help="KIE keys of each surge run")
    parser.add_argument(
        "--temporal-db",
        choices=["memory", "file"],
        default="memory",
        help="the dev server's persistence: in memory (default), or a SQLite file as `make run` uses",
    )
    args = parser.parse_args(argv)
    sizes = Sizes(
        latency_runs=args.latency_runs,
        throughput_generations=args.throughput,
        webhook_callbacks=args.webhook_callbacks,
        memory_generations=args.memory,
        surge_scale=args.surge_scale,
        surge_keys=tuple(int(k) for k in args.surge_keys.split(",") if k.strip()),
    )
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    results = asyncio.run(run(sizes, only, args.temporal_db))
    rows = verdicts(results)
    print_table(
        f"Genflow bench — {results['machine']['cores']} cores, {results['machine']['cpu']}, "
        f"Temporal dev server persistence: {results['temporal_persistence']}",
        ["measure", "Genflow", "floor", "ratio", "target", "verdict", "others' CPU"],
        rows,
    )
    results["verdicts"] = rows
    path = write_results("bench", results)
    print(f"results: {path.relative_to(path.parents[2])}  ({results['seconds']} s)", flush=True)
    sys.stdout.flush()
    os._exit(0)
