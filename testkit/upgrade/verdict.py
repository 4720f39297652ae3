"""What must hold after a rolling upgrade, read from outside (histories, the ledger), and the figures.

Which version completed a generation: the identity (``<pid>@<host>``) on its last *WorkflowTaskCompleted*
event, the worker that sent "complete the workflow". Whether it took version B's steps: its patch markers.
"None fails a replay": no *WorkflowTaskFailed* event in any history (a non-determinism error leaves one, even
after the task succeeded on a retry), and every final history replays on version B with the SDK's replayer.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType, TaskQueueKind, TimeoutType
from temporalio.client import WorkflowExecutionStatus, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from contracts.models import Outcome
from db import check_invariant
from testkit.checks import Check, passed_if
from testkit.harness import Harness
from testkit.upgrade.rollout import UpgradeRun, version_of
from testkit.upgrade.version_b import EARLY, LATE, GenerationWorkflowB

PATCH_MARKER = "core_patch"  # the SDK core's name for patch markers


@dataclass
class Closed:
    """One generation, as its history tells it."""

    id: str
    started_on: str  # "A" or "B"
    finished: str  # when KIE finished it: before, during or after the deploy
    status: str
    completed_by: str  # "A", "B" or "?": the worker that completed it
    patches: set[str] = field(default_factory=set)
    task_failures: list[str] = field(default_factory=list)  # WorkflowTaskFailed causes
    task_timeouts: list[str] = field(default_factory=list)  # WorkflowTaskTimedOut: which timeout, which queue


def read_history(history: WorkflowHistory) -> tuple[str, set[str], list[str], list[str]]:
    """(the completing identity, the patch ids taken, WorkflowTaskFailed messages, task timeouts)."""
    identity, patches, failures, timeouts = "", set(), [], []
    queue = ""
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            kind = event.workflow_task_scheduled_event_attributes.task_queue.kind
            queue = "sticky" if kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY else "normal"
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            identity = event.workflow_task_completed_event_attributes.identity
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            attributes = event.marker_recorded_event_attributes
            if attributes.marker_name == PATCH_MARKER:
                patches |= {_patch_id(p.data) for d in attributes.details.values() for p in d.payloads}
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes
            failures.append(f"{failure.cause}: {failure.failure.message[:200]}")
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            timeout = TimeoutType.Name(event.workflow_task_timed_out_event_attributes.timeout_type)
            timeouts.append(f"{timeout.removeprefix('TIMEOUT_TYPE_').lower()} on the {queue} queue")
    return identity, patches - {""}, failures, timeouts


def _patch_id(data: bytes) -> str:
    try:
        value: Any = json.loads(data)
    except ValueError:
        return ""
    return str(value.get("id", "")) if isinstance(value, dict) else ""


async def collect(h: Harness, run: UpgradeRun) -> tuple[list[Closed], list[WorkflowHistory]]:
    closed, histories = [], []
    for wid, handle in run.handles.items():
        description = await handle.describe()
        history = await handle.fetch_history()
        identity, patches, failures, timeouts = read_history(history)
        status = description.status.name if description.status else "UNKNOWN"
        closed.append(
            Closed(wid, run.started_on[wid], run.finished.get(wid, "-"), status, version_of(run, identity))
        )
        closed[-1].patches, closed[-1].task_failures, closed[-1].task_timeouts = patches, failures, timeouts
        histories.append(history)
    return closed, histories


async def replay_failures(histories: Iterable[WorkflowHistory], workflow: type) -> dict[str, str]:
    """Replays every history on ``workflow`` (as a worker does after a restart); run id -> the error."""

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    replayer = Replayer(workflows=[workflow], data_converter=pydantic_data_converter)
    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    return {run_id: str(error)[:300] for run_id, error in results.replay_failures.items()}


async def judge(h: Harness, run: UpgradeRun) -> tuple[list[Check], dict[str, Any]]:
    closed, histories = await collect(h, run)
    completed = {c.id for c in closed if c.status == WorkflowExecutionStatus.COMPLETED.name}
    results = {wid: await handle.result() for wid, handle in run.handles.items() if wid in completed}
    of_a = [c for c in closed if c.started_on == "A"]
    of_b = [c for c in closed if c.started_on == "B"]
    completed_by = Counter(c.completed_by for c in of_a)
    bad = [
        c.id
        for c in closed
        if c.id not in results or results[c.id].outcome != Outcome.SUCCEEDED or not results[c.id].delivered
    ]
    task_failures = [(c.id, f) for c in closed for f in c.task_failures]
    replay = await replay_failures(histories, GenerationWorkflowB)
    checks = [
        passed_if(
            "every generation succeeded and was delivered",
            not bad,
            f"{len(closed)} generations, {len(bad)} not" + (f", e.g. {bad[:3]}" if bad else ""),
        ),
        passed_if(
            "every generation of A finished",
            completed_by["A"] + completed_by["B"] == len(of_a) == run.plan.generations,
            f"{len(of_a)} started on A: {completed_by['A']} completed on A, {completed_by['B']} on B",
        ),
        passed_if(
            "no workflow task failed",
            not task_failures,
            f"{len(task_failures)} WorkflowTaskFailed event(s)"
            + (f", e.g. {task_failures[0]}" if task_failures else "")
            + f"; task timeouts: {dict(Counter(t for c in closed for t in c.task_timeouts)) or 0}",
        ),
        passed_if(
            "every history replays on version B",
            not replay,
            f"{len(histories)} replayed, {len(replay)} failed"
            + (f", e.g. {next(iter(replay.values()))}" if replay else ""),
        ),
        *_patch_checks(run, of_a, of_b),
        *await _money_checks(h, run, closed),
    ]
    figures: dict[str, Any] = {
        "started_on_a": len(of_a),
        "in_flight_at_deploy": run.in_flight,
        "completed_on_a": completed_by["A"],
        "completed_on_b": completed_by["B"],
        "started_on_b": len(of_b),
        "started_on_b_completed_on_b": sum(c.completed_by == "B" for c in of_b),
        "failed": len(bad),
        "workflow_task_failures": len(task_failures),
        "workflow_task_timeouts": dict(Counter(t for c in closed for t in c.task_timeouts)),
        "replay_failures": len(replay),
        "a_took_late_step": sum(LATE in c.patches for c in of_a),
        "completed_by_when_finished": {
            when: dict(Counter(c.completed_by for c in of_a if c.finished == when))
            for when in ("before", "during", "after")
        },
        "pollers_mid_deploy": {p: version_of(run, p) for p in run.pollers},
        "timings": run.timings,
    }
    return checks, figures


def _patch_checks(run: UpgradeRun, of_a: list[Closed], of_b: list[Closed]) -> list[Check]:
    early_on_a = [c.id for c in of_a if EARLY in c.patches]
    late_before = [c.id for c in of_a if c.finished == "before" and LATE in c.patches]
    late_after = [c for c in of_a if c.finished == "after"]
    b_missing = [c.id for c in of_b if not {EARLY, LATE} <= c.patches or c.completed_by != "B"]
    return [
        passed_if(
            "A's generations skip the step they had passed",
            not early_on_a,
            f"{len(early_on_a)} of {len(of_a)} started on A carry B's start-of-run marker",
        ),
        passed_if(
            "A's generations take B's step they had not reached",
            not late_before and all(LATE in c.patches for c in late_after),
            f"finished after the deploy: {sum(LATE in c.patches for c in late_after)} of {len(late_after)} "
            f"took the pause before charging; finished on A before it: {len(late_before)} did",
        ),
        passed_if(
            "generations started on B take both steps on B",
            not b_missing and len(of_b) == run.plan.started_on_b,
            f"{len(of_b)} started on B, {len(b_missing)} without both markers or completed elsewhere",
        ),
    ]


async def _money_checks(h: Harness, run: UpgradeRun, closed: list[Closed]) -> list[Check]:
    ids = [c.id for c in closed]
    charges = await h.pool.fetch(
        "SELECT generation_id, count(*) AS n FROM ledger_entries WHERE kind = 'charge' "
        "AND generation_id = ANY($1) GROUP BY 1",
        ids,
    )
    once = sum(r["n"] == 1 for r in charges)
    held = await h.pool.fetchval(
        "SELECT coalesce(sum(held), 0) FROM accounts WHERE user_id = ANY($1)", run.users
    )
    violations = await check_invariant(h.pool)
    return [
        passed_if(
            "each generation charged once, nothing left held",
            once == len(ids) == len(charges) and held == 0 and not violations,
            f"{once} of {len(ids)} charged exactly once; {held} credits held; "
            f"{len(violations)} ledger invariant violation(s)",
        )
    ]
