"""Reading KIE callbacks.

The webhook server runs in two steps: it first needs the task id alone (to verify the signature and find
the workflow, before it knows which model the task belongs to), then the model-specific reading.
"""

from __future__ import annotations

from typing import Any

from kie.adapters import adapter_for
from kie.envelope import TaskIdConflict, task_id_in
from kie.models import CallbackInfo, ModelRef


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
