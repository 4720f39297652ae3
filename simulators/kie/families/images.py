"""The two special image APIs: GPT-4o image and Flux Kontext."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kie.families.base import Callback, Family, fail_flag, iso
from simulators.kie.tasks import SimTask


class Gpt4oImage(Family):
    name = "gpt4o"
    stages = ("GENERATING",)
    status_path = "/api/v1/gpt4o-image/record-info"

    def create_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/gpt4o-image/generate", self.generate)]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "size"):
            return problem
        if not body.get("prompt") and not body.get("filesUrl"):
            return self.invalid("prompt or filesUrl is required")
        variants = body.get("nVariants")
        return await self.engine.submit(
            request,
            self,
            kind="generate",
            model="gpt4o-image",
            output="image",
            body=body,
            callback_url=body.get("callBackUrl"),
            n_results=variants if variants in (1, 2, 4) else 1,
        )

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "paramJson": task.param,
            "completeTime": task.complete_ms,
            "response": None,
            "successFlag": 0,
            "status": "GENERATING",
            "errorCode": None,
            "errorMessage": "",
            "createTime": task.create_ms,
            "progress": f"{self.engine.progress(task):.2f}",  # a string, "0.00".."1.00"
        }
        if task.outcome == "success":
            data.update(successFlag=1, status="SUCCESS", response={"resultUrls": self.urls(task)})
        elif task.outcome == "fail":
            data.update(
                successFlag=2, status="GENERATE_FAILED", errorCode=task.fail_code, errorMessage=task.fail_msg
            )
        return data

    def final_callback(self, task: SimTask) -> Callback:
        if task.outcome == "fail":
            data = {"taskId": task.task_id, "info": None}
            return "fail", {"code": task.fail_code, "msg": task.fail_msg, "data": data}
        # The callback page spells it result_urls, record-info resultUrls: both as documented.
        data = {"taskId": task.task_id, "info": {"result_urls": self.urls(task)}}
        return "success", {"code": 200, "msg": "success", "data": data}


class FluxKontext(Family):
    name = "flux_kontext"
    stages = ("generating",)
    status_path = "/api/v1/flux/kontext/record-info"

    def create_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/flux/kontext/generate", self.generate)]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "prompt"):
            return problem
        return await self.engine.submit(
            request,
            self,
            kind="generate",
            model=str(body.get("model") or "flux-kontext-pro"),
            output="image",
            body=body,
            callback_url=body.get("callBackUrl"),
        )

    def _info(self, task: SimTask) -> dict[str, Any]:
        return {"originImageUrl": self.file_url(task, "origin.png"), "resultImageUrl": self.urls(task)[0]}

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "paramJson": task.param,
            "completeTime": iso(task.completed_at),
            "response": None,
            "successFlag": 0,
            "errorCode": None,
            "errorMessage": "",
            "createTime": iso(task.created_at),
        }
        if task.outcome == "success":
            data.update(successFlag=1, response=self._info(task))
        elif task.outcome == "fail":
            data.update(successFlag=fail_flag(task), errorCode=task.fail_code, errorMessage=task.fail_msg)
        return data

    def final_callback(self, task: SimTask) -> Callback:
        if task.outcome == "fail":
            data = {"taskId": task.task_id, "info": None}
            return "fail", {"code": task.fail_code, "msg": task.fail_msg, "data": data}
        data = {"taskId": task.task_id, "info": self._info(task)}
        return "success", {"code": 200, "msg": "BFL image generated successfully.", "data": data}
