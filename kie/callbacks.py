"""Reading KIE callbacks.

The webhook server runs in two steps: it first needs the task id alone (to verify the signature and find
the workflow, before it knows which model the task belongs to), then the model-specific reading, which goes
into the workflow's timeline as what KIE reported.
"""

from __future__ import annotations

from typing import Any

from kie.adapters import adapter_for
from kie.envelope import TaskIdConflict, task_id_in
from kie.errors import KieParseError
from kie.models import CallbackInfo, ModelRef, TaskState


def extract_task_id(body: Any) -> str | None:
    """Top-level ``taskId``, else ``data.taskId``, else ``data.task_id``; None when absent or when the
    places disagree (such a body cannot be trusted to name the right task)."""
    try:
        return task_id_in(body)
    except TaskIdConflict:
        return None


def parse_callback(body: Any, model: ModelRef) -> CallbackInfo:
    """The callback read by the adapter of ``model``'s family (raises KieParseError without a task id)."""
    return adapter_for(model.api).parse_callback(body, model)


def describe_callback(body: Any, model: ModelRef) -> str | None:
    """One line of what a callback reports, for the workflow's timeline (None when it names no task).

    The body is not signed, so this is shown, never acted on: money moves on a status check.
    """
    try:
        info = parse_callback(body, model)
    except KieParseError:
        return None
    status = info.status
    if status is None:
        text = "an outcome that could not be read"
    elif status.state is TaskState.SUCCEEDED:
        text = f"success, {len(status.files)} file(s)"
    elif status.state is TaskState.FAILED:
        text = "failure " + " ".join(p for p in (status.fail_code, status.fail_message) if p)
    else:
        text = f"in progress ({status.stage or 'running'})"
    return text[:200]
