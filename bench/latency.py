"""Rows 1 and 4 of `make bench`: latency from the webhook's 200 to the result in the chat, and the cost of a
happy generation in Temporal actions, each beside the bare-workflow floor."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from bench.floor import FLOOR_TASK_QUEUE, FloorPlan, FloorWorkflow
from bench.histories import activity_names, count_actions, event_census
from bench.processes import child_process
from bench.stats import percentile, summary_ms
from bench.workload import MODEL, Sizes, photo_delivered, send_callback
from testkit.harness import Harness
from workflows.generation import GenerationWorkflow

WORKFLOW_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


# Runs while the workflow waits for KIE (Temporal retries it between polls): the workflow is idle meanwhile.
WAITING_ACTIVITIES = {"poll_tasks"}


async def wait_idle(handle: WorkflowHandle, *, need_timer: bool, within: float = 30) -> Any:
    """Until the workflow sits waiting: its last event is a completed workflow task, no activity pending but
    the KIE poll."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        events = history.events
        open_activities = set()
        timer = False
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                scheduled = event.activity_task_scheduled_event_attributes
                if scheduled.activity_type.name not in WAITING_ACTIVITIES:
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
        answered = await send_callback(h, handle.id, task_id)
        delivered, last_call = await photo_delivered(h, user, last_call)
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
