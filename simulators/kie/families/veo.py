"""Veo 3.1: ``POST /api/v1/veo/generate`` and ``/extend``, ``GET /api/v1/veo/record-info``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kie.families.base import Callback, Family, clock, fail_flag
from simulators.kie.tasks import SimTask


class Veo(Family):
    name = "veo"
    stages = ("generating",)
    status_path = "/api/v1/veo/record-info"

    def create_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/veo/generate", self.generate), web.post("/api/v1/veo/extend", self.extend)]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "prompt"):
            return problem
        return await self._submit(request, body, "generate", str(body.get("model") or "veo3_fast"))

    async def extend(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "taskId", "prompt"):
            return problem
        # Only a finished Veo generation of this account can be extended.
        original = self.engine.tasks.get(str(body["taskId"]))
        if original is None or original.family.name != self.name or original.outcome != "success":
            return self.invalid("The original task does not exist or has not succeeded")
        return await self._submit(request, body, "extend", str(body.get("model") or "fast"))

    async def _submit(
        self, request: web.Request, body: dict[str, Any], kind: str, model: str
    ) -> web.StreamResponse:
        return await self.engine.submit(
            request,
            self,
            kind=kind,
            model=model,
            output="video",
            body=body,
            callback_url=body.get("callBackUrl"),
        )

    def _info(self, task: SimTask) -> dict[str, Any]:
        return {
            "resultUrls": self.urls(task),
            "originUrls": [self.file_url(task, "origin-0.mp4")],
            "resolution": task.body.get("resolution") or "720p",
        }

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "paramJson": task.param,
            "completeTime": clock(task.completed_at),
            "response": None,
            "successFlag": 0,
            "errorCode": None,
            "errorMessage": "",
            "createTime": clock(task.created_at),
            "fallbackFlag": False,
        }
        if task.outcome == "success":
            data.update(successFlag=1, response={"taskId": task.task_id, **self._info(task)})
        elif task.outcome == "fail":
            data.update(successFlag=fail_flag(task), errorCode=task.fail_code, errorMessage=task.fail_msg)
        return data

    def final_callback(self, task: SimTask) -> Callback:
        if task.outcome == "fail":
            data = {"taskId": task.task_id, "fallbackFlag": False}
            return "fail", {"code": task.fail_code, "msg": task.fail_msg, "data": data}
        data = {
            "taskId": task.task_id,
            "promptJson": task.param,
            "info": self._info(task),
            "fallbackFlag": False,
        }
        return "success", {"code": 200, "msg": "Veo3.1 video generated successfully.", "data": data}
