"""Veo 3.1: ``POST /api/v1/veo/generate`` and ``/extend``, ``GET /api/v1/veo/record-info``; and the upgrades
of a finished video, ``GET /api/v1/veo/get-1080p-video`` and ``POST /api/v1/veo/get-4k-video``."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from simulators.kie.envelope import account_of, error, reply
from simulators.kie.families.base import Callback, Family, clock, fail_flag, sub_id
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
        if (
            original is None
            or original.family.name != self.name
            or original.account != account_of(request)
            or original.outcome != "success"
        ):
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


# --- upgrades: 1080P and 4K ------------------------------------------------------------------------

PROCESSING_1080P = "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly."
PROCESSING_4K = "4k is processing. It should be ready in 5-10 minutes. Please check back shortly."
GENERATED_4K = "The video has been generated successfully"
UNAVAILABLE_4K = "The 4K version of this video is unavailable. Please try a different video."
Mark = Literal["1080p", "4k"]


def upgrade_id(parent: str, mark: Mark, index: int) -> str:
    """Where an upgrade is stored: ``<parent>@1080p`` / ``<parent>@4k`` (``:<index>`` for index > 0), the same
    derived id the KIE adapter gives it, so ``sim.tasks[...]`` finds it by the id Genflow records."""
    return f"{parent}@{mark}" + (f":{index}" if index else "")


class VeoUpgrade(Family):
    """The 1080P and 4K versions of a finished Veo video. KIE makes no task for them: the endpoint answers
    the URL once it is ready and a "processing" code before, and the same call is asked again until then.

    The first request for a (task, index) starts the upgrade (its clock, failure plan and credits are a
    task's, stored under ``upgrade_id``); later ones answer its state. Documented answers: 1080P 200
    ``{resultUrl}`` or 400 "1080P is processing…"; 4K 200 ``{taskId, resultUrls: null, imageUrls: null}`` on
    the first request, then 422 "4k is processing…" or 422 "The video has been generated successfully" with
    the URLs; the 4K callback (``data.taskId`` + ``data.info``, or code 500 "The 4K version … is unavailable")
    names the parent's task id and is signed with it. Only a finished Veo task of the same account can be
    upgraded: another answers 422 "record is null" (unknown, another account's or family's) or "record
    status is not success". How a failed upgrade answers is not documented: its 4xx code, else 501.
    """

    name = "veo-upgrade"
    stages = ("processing",)
    status_path = "/api/v1/veo/get-1080p-video"  # also the create: routes() registers each path once

    def routes(self) -> list[web.RouteDef]:
        return self.create_routes()

    def create_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/veo/get-1080p-video", self.get_1080p),
            web.post("/api/v1/veo/get-4k-video", self.get_4k),
        ]

    async def get_1080p(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        return await self._upgrade(request, "1080p", query.get("taskId"), query.get("index"), None, query)

    async def get_4k(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        callback = body.get("callBackUrl")
        return await self._upgrade(request, "4k", body.get("taskId"), body.get("index"), callback, body)

    async def _upgrade(
        self,
        request: web.Request,
        mark: Mark,
        parent_id: Any,
        raw_index: Any,
        callback_url: Any,
        body: dict[str, Any],
    ) -> web.StreamResponse:
        config, account = self.engine.config, account_of(request)
        if not isinstance(parent_id, str) or not parent_id:
            return self.invalid("taskId is required")
        index = _index(raw_index)
        if index is None:
            return self.invalid("index must be a non-negative integer")
        parent = self.engine.tasks.get(parent_id)
        if parent is None or parent.family.name != "veo" or parent.account != account:
            return error(config, 422, "record is null.")
        if parent.outcome != "success":
            return error(config, 422, "record status is not success.")
        if index >= parent.n_results:
            return error(config, 422, "record result data not exist.")
        existing = self.engine.tasks.get(upgrade_id(parent_id, mark, index))
        if existing is None:
            return await self.engine.submit(
                request,
                self,
                kind=mark,
                model=parent.model,
                output="video",
                body=body,
                callback_url=callback_url if isinstance(callback_url, str) else None,
                task_id=upgrade_id(parent_id, mark, index),
                wire_id=parent_id,
                answer=self._first_answer,
            )
        return self.engine.status_fault() or self._answer(existing)  # asking again is a status read

    def _first_answer(self, task: SimTask) -> web.Response:
        if task.plan.fails and task.kind == "4k":
            task.plan.fail_code, task.plan.fail_msg = 500, UNAVAILABLE_4K  # the one documented failure
        if task.kind == "4k":
            return reply(200, "success", {"taskId": task.callback_id, "resultUrls": None, "imageUrls": None})
        return self._answer(task)

    def _answer(self, task: SimTask) -> web.Response:
        config = self.engine.config
        if task.outcome == "fail":
            code = task.fail_code if task.fail_code and 400 <= task.fail_code < 500 else 501
            return error(config, code, task.fail_msg or "Generation failed")
        if task.kind == "1080p":
            if task.outcome == "success":
                return reply(200, "success", {"resultUrl": self.urls(task)[0]})
            return error(config, 400, PROCESSING_1080P)
        data: dict[str, Any] = {"taskId": task.callback_id, "resultUrls": None, "imageUrls": None}
        if task.outcome == "success":
            data.update(resultUrls=self.urls(task), imageUrls=[self.file_url(task, "cover.jpg")])
            return error(config, 422, GENERATED_4K, data=data)
        return error(config, 422, PROCESSING_4K, data=data)

    def status_data(self, task: SimTask) -> dict[str, Any]:
        done = task.outcome == "success"
        return {"taskId": task.callback_id, "resultUrls": self.urls(task) if done else None}

    def final_callback(self, task: SimTask) -> Callback:
        # The 4K callbacks page: data.taskId + data.info; KIE sends no callback for 1080P (engine: no URL).
        if task.outcome == "fail":
            data = {"taskId": task.callback_id}
            return "fail", {"code": task.fail_code, "msg": task.fail_msg, "data": data}
        info = {
            "resultUrls": self.urls(task),
            "imageUrls": [self.file_url(task, "cover.jpg")],
            "mediaIds": [sub_id(task, "media")],
        }
        data = {"taskId": task.callback_id, "info": info}
        return "success", {"code": 200, "msg": "4K Video generated successfully.", "data": data}


def _index(value: Any) -> int | None:
    """The video index (absent: 0); None when it is not a non-negative integer."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
