"""Midjourney: ``POST /api/v1/mj/generate`` (``taskType`` picks the mode), ``GET /api/v1/mj/record-info``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kie.families.base import Callback, Family, fail_flag, iso
from simulators.kie.tasks import SimTask

IMAGE_TASKS = frozenset({"mj_txt2img", "mj_img2img", "mj_style_reference", "mj_omni_reference"})
VIDEO_TASKS = frozenset({"mj_video", "mj_video_hd"})
SPEEDS = frozenset({"relaxed", "fast", "turbo"})
ASPECT_RATIOS = frozenset({"1:2", "9:16", "2:3", "3:4", "5:6", "6:5", "4:3", "3:2", "1:1", "16:9", "2:1"})
VERSIONS = frozenset({"7", "6.1", "6", "5.2", "5.1", "niji6"})
# Integer knobs and their documented ranges.
RANGES = {"variety": (0, 100), "stylization": (0, 1000), "weirdness": (0, 3000), "ow": (1, 1000)}
IMAGES_PER_TASK = 4  # a Midjourney grid
PROMPT_MAX = 2000


class Midjourney(Family):
    name = "midjourney"
    stages = ("generating",)
    status_path = "/api/v1/mj/record-info"

    def create_routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/mj/generate", self.generate)]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if problem := self.missing(body, "taskType", "prompt") or self.check(body):
            return problem
        video = body["taskType"] in VIDEO_TASKS
        return await self.engine.submit(
            request,
            self,
            kind="generate",
            model=str(body["taskType"]),
            output="video" if video else "image",
            body=body,
            callback_url=body.get("callBackUrl"),
            n_results=int(body.get("videoBatchSize") or 1) if video else IMAGES_PER_TASK,
        )

    def check(self, body: dict[str, Any]) -> web.Response | None:
        """A 422 for the first value KIE's page would refuse."""
        task_type = body["taskType"]
        if task_type not in IMAGE_TASKS | VIDEO_TASKS:
            return self.invalid(f"taskType must be one of {sorted(IMAGE_TASKS | VIDEO_TASKS)}")
        if not isinstance(body["prompt"], str) or len(body["prompt"]) > PROMPT_MAX:
            return self.invalid(f"prompt must be a string of at most {PROMPT_MAX} characters")
        for name, allowed in (("speed", SPEEDS), ("aspectRatio", ASPECT_RATIOS), ("version", VERSIONS)):
            if body.get(name) not in (None, "") and body[name] not in allowed:
                return self.invalid(f"{name} must be one of {sorted(allowed)}")
        for name, (low, high) in RANGES.items():
            value = body.get(name)
            if value is not None and (type(value) is not int or not low <= value <= high):
                return self.invalid(f"{name} must be an integer from {low} to {high}")
        files = body.get("fileUrls") or ([body["fileUrl"]] if body.get("fileUrl") else [])
        if task_type != "mj_txt2img" and not files:
            return self.invalid(f"fileUrl or fileUrls is required for {task_type}")
        if not isinstance(files, list) or not all(isinstance(url, str) and url for url in files):
            return self.invalid("fileUrls must be a list of image URLs")
        if task_type in VIDEO_TASKS:
            return self._check_video(body, files)
        return None

    def _check_video(self, body: dict[str, Any], files: list[str]) -> web.Response | None:
        if len(files) > 1:
            return self.invalid("fileUrls can only have one image link when generating videos")
        if body.get("motion") not in ("high", "low"):
            return self.invalid("motion is required for video tasks: high or low")
        if body.get("videoBatchSize") is not None and (
            type(body["videoBatchSize"]) is not int or body["videoBatchSize"] not in (1, 2, 4)
        ):
            return self.invalid("videoBatchSize must be 1, 2 or 4")
        return None

    def status_data(self, task: SimTask) -> dict[str, Any]:
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "taskType": task.model,
            "paramJson": task.param,
            "completeTime": iso(task.completed_at),
            "resultInfoJson": None,
            "successFlag": 0,
            "createTime": iso(task.created_at),
            "errorCode": None,
            "errorMessage": None,
        }
        if task.outcome == "success":
            # record-info wraps each URL in an object; the callback sends plain strings.
            data.update(
                successFlag=1, resultInfoJson={"resultUrls": [{"resultUrl": url} for url in self.urls(task)]}
            )
        elif task.outcome == "fail":
            data.update(successFlag=fail_flag(task), errorCode=task.fail_code, errorMessage=task.fail_msg)
        return data

    def final_callback(self, task: SimTask) -> Callback:
        data: dict[str, Any] = {"taskId": task.task_id, "promptJson": task.param, "resultUrls": []}
        if task.outcome == "fail":
            # The callback page documents only 200 and 500; record-info holds the precise errorCode.
            return "fail", {"code": 500, "msg": task.fail_msg or "Image generation failed", "data": data}
        data["resultUrls"] = self.urls(task)
        return "success", {"code": 200, "msg": "success", "data": data}
