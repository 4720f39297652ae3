"""Market API: most models, one create endpoint with a ``{model, input}`` body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kie.adapters.base import Adapter
from kie.errors import KieParseError
from kie.fields import fraction, json_value, mapping, text, urls
from kie.models import ModelRef, TaskState, TaskStatus

# `state` in any order, some skipped. "queueing" is Runway's spelling; accepting it here costs nothing.
_STATES: dict[str, TaskState] = {
    "waiting": TaskState.IN_PROGRESS,
    "queuing": TaskState.IN_PROGRESS,
    "queueing": TaskState.IN_PROGRESS,
    "generating": TaskState.IN_PROGRESS,
    "success": TaskState.SUCCEEDED,
    "fail": TaskState.FAILED,
    "failed": TaskState.FAILED,
}


class MarketAdapter(Adapter):
    api = "market"
    create_path = "/api/v1/jobs/createTask"
    status_path = "/api/v1/jobs/recordInfo"

    def create_body(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model.id, "input": dict(inputs)}
        if callback_url:
            body["callBackUrl"] = callback_url
        return body

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        stage = text(data.get("state"))
        state = _STATES.get(stage.lower()) if stage else None
        if state is None:
            raise KieParseError(f"market status: unknown state {data.get('state')!r}")
        progress = fraction(data.get("progress"), percent=True, what="market status")
        if state is TaskState.SUCCEEDED:
            result = json_value(data.get("resultJson"), what="market resultJson")
            if result is not None and not isinstance(result, Mapping):
                raise KieParseError("market resultJson: expected a JSON object")
            found = urls(mapping(result).get("resultUrls"), what="market resultJson.resultUrls")
            return self.succeeded(task_id, self.result_files(model, found), stage=stage, progress=progress)
        if state is TaskState.FAILED:
            return self.failed(
                task_id, code=text(data.get("failCode")), message=text(data.get("failMsg")), stage=stage
            )
        # A running task's resultJson is not a result (the "waiting" example carries one anyway).
        return self.in_progress(task_id, stage=stage, progress=progress)

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        # A Market callback is the recordInfo record plus credit fields.
        return self.read_record(data, model, task_id)
