"""Market API: ``POST /api/v1/jobs/createTask`` + ``GET /api/v1/jobs/recordInfo`` (most models)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulators.kie.families.base import Callback, Family
from simulators.kie.media import market_output
from simulators.kie.tasks import SimTask


class Market(Family):
    name = "market"
    stages = ("waiting", "queuing", "generating")
    status_path = "/api/v1/jobs/recordInfo"

    def create_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/jobs/createTask", self.create)]

    async def create(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        model, model_input = body.get("model"), body.get("input")
        if not isinstance(model, str) or not model:
            return self.invalid("model is required")
        if not isinstance(model_input, dict):
            return self.invalid("input is required")
        return await self.engine.submit(
            request,
            self,
            kind="createTask",
            model=model,
            output=market_output(model, self.engine.config.model_outputs),
            body=body,
            callback_url=body.get("callBackUrl"),
            n_results=_count(model_input),
        )

    def create_extra(self, task: SimTask) -> dict[str, Any]:
        return {"recordId": task.task_id} if self.engine.config.market_record_id else {}

    def _record(self, task: SimTask) -> dict[str, Any]:
        """The fields recordInfo and the callback share."""
        return {
            "taskId": task.task_id,
            "model": task.model,
            "state": task.stage_name,
            "param": task.param,
            "createTime": task.create_ms,
            "updateTime": task.update_ms,
            "completeTime": task.complete_ms,
        }

    def _result_json(self, task: SimTask) -> str:
        return json.dumps({"resultUrls": self.urls(task)}, separators=(",", ":"))

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self._record(task),
            "resultJson": "",
            "failCode": None,
            "failMsg": None,
            "costTime": None,
        }
        if task.output == "video":  # only some models report progress; video ones are the slow ones
            data["progress"] = round(self.engine.progress(task) * 100)
        if task.is_final:
            data["costTime"] = task.complete_ms - task.create_ms  # ms here (recordInfo page)
            if task.outcome == "success":
                data.update(resultJson=self._result_json(task), failCode="", failMsg="")
            else:
                data.update(failCode=str(task.fail_code), failMsg=task.fail_msg)
        return data

    def final_callback(self, task: SimTask) -> Callback:
        # The callback page shows costTime in seconds, unlike recordInfo: mirror both pages.
        data = {
            **self._record(task),
            "consumeCredits": task.consumed_credits,
            "remainedCredits": task.remained_credits,
            "costTime": (task.complete_ms - task.create_ms) // 1000,
        }
        if task.outcome == "success":
            data["resultJson"] = self._result_json(task)
            return "success", {"code": 200, "msg": "Playground task completed successfully.", "data": data}
        data.update(failCode=str(task.fail_code), failMsg=task.fail_msg)
        return "fail", {"code": 501, "msg": "Playground task failed.", "data": data}


def _count(model_input: dict[str, Any]) -> int:
    """How many files a request asks for (``num_images`` is a string enum on the pages that have it)."""
    try:
        return max(1, min(4, int(model_input.get("num_images") or 1)))
    except (TypeError, ValueError):
        return 1
