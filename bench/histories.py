"""What a workflow history says: billable actions, the activities run, a census of its events."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

# What this project counts as a billable action in a history (Temporal Cloud's categories that leave events):
# the start, every activity attempt (retries included), signals, timers, search-attribute upserts, property
# changes, markers (local activities, side effects, patches) and accepted updates. Heartbeats are billed too
# but leave no event; queries leave none either.
ACTION_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow_started",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upsert_search_attributes",
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: "properties_modified",
    EventType.EVENT_TYPE_MARKER_RECORDED: "marker",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
}


def count_actions(history: WorkflowHistory) -> dict[str, int]:
    """Billable actions of one history by kind (see ACTION_EVENTS); activities count every attempt."""
    counts: dict[str, int] = {}
    attempts: dict[int, int] = {}  # scheduled event id -> attempts seen
    for event in history.events:
        kind = ACTION_EVENTS.get(event.event_type)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attempts[event.event_id] = 1
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            attempts[attrs.scheduled_event_id] = max(1, attrs.attempt)
    counts["activity_attempts"] = sum(attempts.values())
    counts["total"] = sum(counts.values())
    return counts


def activity_names(history: WorkflowHistory, *, after_signal: bool = False) -> list[str]:
    """Activities run, in order, local ones included (their markers name them); ``after_signal`` keeps only
    those after the first signal. The floor runs this many no-op activities: the issue's "same number"."""
    names: list[str] = []
    seen_signal = not after_signal
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            seen_signal = True
        elif seen_signal and event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif seen_signal and event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                names.append(f"{_local_activity_type(marker)} (local)")
    return names


def _local_activity_type(marker: Any) -> str:
    with contextlib.suppress(Exception):
        return json.loads(marker.details["data"].payloads[0].data)["activity_type"]
    return "?"


def event_census(history: WorkflowHistory) -> dict[str, int]:
    census: dict[str, int] = {}
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
        census[name] = census.get(name, 0) + 1
    return census
