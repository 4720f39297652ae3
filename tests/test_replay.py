"""Recorded histories of GenerationWorkflow's main paths must replay on the current code.

A failure here means a change is not deterministic for workflows already running: guard it with
`workflow.patched(...)` (see docs/deploy.md), or, for a deliberate break, re-record with
`python -m tests.histories.record` and keep the old files while old workflows can still be running.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.generation import GenerationWorkflow

HISTORIES = {
    path.stem: json.loads(path.read_text()) for path in (Path(__file__).parent / "histories").glob("*.json")
}


def test_the_main_paths_are_recorded():
    assert {
        "success_callback",
        "success_polling",
        "kie_rejected",
        "lost_answer_two_tasks",
        "cancel_before_submission",
        "insufficient_credits",
        "blocked_user",
        "deadline_refund",
        # Polling by activity; the same paths from before it, polling on timers, stay as *_timers.
        "callback_while_polling",
        "progress_then_result",
        "success_polling_timers",
        "deadline_refund_timers",
    } <= HISTORIES.keys()


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_history_replays(name: str):
    history = WorkflowHistory.from_json(f"replay-{name}", HISTORIES[name])
    replayer = Replayer(workflows=[GenerationWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)  # raises on non-determinism


@workflow.defn(name="GenerationWorkflow")
class ReorderedGeneration:
    """A 'new version' that waits before validating: incompatible with every recorded history."""

    @workflow.run
    async def run(self, request: dict) -> None:
        await workflow.sleep(timedelta(seconds=1))


async def test_an_incompatible_change_is_caught():
    # The check itself must be able to fail.
    history = WorkflowHistory.from_json("replay-changed", HISTORIES["success_callback"])
    replayer = Replayer(workflows=[ReorderedGeneration], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None


BILLABLE = {
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
    "EVENT_TYPE_TIMER_STARTED",
    "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
}


@pytest.mark.parametrize("name", ["success_callback", "success_polling"])
def test_a_happy_generation_costs_at_most_twelve_actions(name: str):
    """Temporal Cloud bills starts, activities, timers, signals and upserts; the design target is ≤ 12."""
    events = [e["eventType"] for e in HISTORIES[name]["events"]]
    signals = events.count("EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED")
    # The recorded callback path received a duplicate callback on purpose; a happy path has one.
    actions = sum(e in BILLABLE for e in events) - max(0, signals - 1)
    assert actions <= 12, actions
