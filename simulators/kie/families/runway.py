"""Runway (``/api/v1/runway/*``: generate, extend) and Runway Aleph (``/api/v1/aleph/*``): two APIs, two
shapes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kie.envelope import account_of
from simulators.kie.families.base import Callback, Family, clock, fail_flag, sub_id
from simulators.kie.tasks import SimTask


class Runway(Family):
    name = "runway"
    stages = ("wait", "queueing", "generating")
    id_style = "uuid"
    status_path = "/api/v1/runway/record-detail"

    def create_routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/runway/generate", self.generate),
            web.post("/api/v1/runway/extend", self.extend),
        ]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "prompt"):
            return problem
        return await self._submit(request, body, "generate")

    async def extend(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/v1/runway/extend`` {taskId, prompt, quality, waterMark, callBackUrl}: a new task that
        continues a finished Runway video of this account (same record-detail and callback shapes)."""
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "taskId", "prompt", "quality"):
            return problem
        if body["quality"] not in ("720p", "1080p"):
            return self.invalid("quality must be 720p or 1080p")
        original = self.engine.tasks.get(str(body["taskId"]))
        if (
            original is None
            or original.family.name != self.name
            or original.account != account_of(request)
            or original.outcome != "success"
        ):
            return self.invalid("The original task does not exist or has not succeeded")
        return await self._submit(request, body, "extend")

    async def _submit(self, request: web.Request, body: dict[str, Any], kind: str) -> web.StreamResponse:
        return await self.engine.submit(
            request,
            self,
            kind=kind,
            model="runway",
            output="video",
            body=body,
            callback_url=body.get("callBackUrl"),
        )

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "parentTaskId": task.body.get("taskId", "") if task.kind == "extend" else "",
            "generateParam": {
                "prompt": task.body.get("prompt", ""),
                "imageUrl": task.body.get("imageUrl", ""),
                "expandPrompt": False,
            },
            "state": task.stage_name,
            "generateTime": clock(task.completed_at) or "",
            "videoInfo": None,
            "failCode": None,
            "failMsg": "",
            "expireFlag": 0,
        }
        if task.outcome == "success":
            data["videoInfo"] = {
                "videoId": sub_id(task, "video"),
                "taskId": task.task_id,
                "videoUrl": self.urls(task)[0],
                "imageUrl": self.file_url(task, "cover.png"),
            }
        elif task.outcome == "fail":
            data.update(failCode=task.fail_code, failMsg=task.fail_msg)
        return data

    def final_callback(self, task: SimTask) -> Callback:
        # Runway callbacks name the task ``data.task_id`` (snake case), unlike its record-detail.
        if task.outcome == "fail":
            data = {"task_id": task.task_id, "video_id": "", "video_url": "", "image_url": ""}
            return "fail", {"code": task.fail_code, "msg": task.fail_msg, "data": data}
        data = {
            "task_id": task.task_id,
            "video_id": sub_id(task, "video"),
            "video_url": self.urls(task)[0],
            "image_url": self.file_url(task, "cover.png"),
        }
        return "success", {"code": 200, "msg": "All generated successfully.", "data": data}


class Aleph(Family):
    name = "aleph"
    stages = ("generating",)
    id_style = "uuid"
    status_path = "/api/v1/aleph/record-info"

    def create_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/aleph/generate", self.generate)]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "prompt", "videoUrl"):
            return problem
        return await self.engine.submit(
            request,
            self,
            kind="generate",
            model="runway-aleph",
            output="video",
            body=body,
            callback_url=body.get("callBackUrl"),
        )

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "paramJson": task.param,
            "response": None,
            "successFlag": 0,
            "errorCode": None,
            "errorMessage": "",
            "createTime": clock(task.created_at),
            "completeTime": clock(task.completed_at),
        }
        if task.outcome == "success":
            data.update(
                successFlag=1,
                response={
                    "taskId": task.task_id,
                    "resultVideoUrl": self.urls(task)[0],
                    "resultImageUrl": self.file_url(task, "cover.png"),
                },
            )
        elif task.outcome == "fail":
            data.update(successFlag=fail_flag(task), errorCode=task.fail_code, errorMessage=task.fail_msg)
        return data

    def final_callback(self, task: SimTask) -> Callback:
        # The Aleph callback page puts taskId at the top level of the body.
        if task.outcome == "fail":
            body = {"code": task.fail_code, "msg": task.fail_msg, "taskId": task.task_id, "data": None}
            return "fail", body
        data = {"result_video_url": self.urls(task)[0], "result_image_url": self.file_url(task, "cover.png")}
        msg = "All generated successfully."
        return "success", {"code": 200, "msg": msg, "taskId": task.task_id, "data": data}
