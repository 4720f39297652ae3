"""Suno: five create endpoints, one record-info, and staged callbacks (text → first → complete).

Status walks PENDING → TEXT_SUCCESS → FIRST_SUCCESS → SUCCESS; a callback goes out at each of the
last three. A failing task stays PENDING, then ends in a failure status with an ``error`` callback.

Extend (``/api/v1/generate/extend``) continues one track (``audioId`` = a ``sunoData[].id``) of a finished
Suno task of the same account, with the same ``model`` (KIE: "the model version must match the source
audio's"); upload-extend continues an uploaded file. Both need ``defaultParamFlag``, ``model`` and
``callBackUrl``; with ``defaultParamFlag`` true also ``style``, ``title``, ``continueAt`` (> 0) and, unless
instrumental, ``prompt``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kie.envelope import account_of
from simulators.kie.families.base import Callback, Family, clock, sub_id
from simulators.kie.tasks import SimTask

TRACKS = 2  # Suno answers two takes per request
_TRACK_SECONDS = 1.07  # the length of assets/sample.mp3
_STAGE_MESSAGES = {
    "text": "Text generation completed successfully.",
    "first": "First track generation completed successfully.",
    "complete": "All generated successfully.",
}


class Suno(Family):
    name = "suno"
    stages = ("PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS")
    status_path = "/api/v1/generate/record-info"

    def create_routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/generate", self.generate),
            web.post("/api/v1/generate/upload-cover", self.upload_cover),
            web.post("/api/v1/generate/add-instrumental", self.add_instrumental),
            web.post("/api/v1/generate/extend", self.extend),
            web.post("/api/v1/generate/upload-extend", self.upload_extend),
        ]

    async def generate(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "GENERATE", ())

    async def upload_cover(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "UPLOAD_COVER", ("uploadUrl",))

    async def add_instrumental(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "ADD_INSTRUMENTAL", ("uploadUrl", "title", "negativeTags", "tags"))

    async def extend(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "EXTEND", ("audioId", "model"))

    async def upload_extend(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "UPLOAD_EXTEND", ("uploadUrl", "model"))

    async def _create(self, request: web.Request, kind: str, required: tuple[str, ...]) -> web.StreamResponse:
        body = await self.read_body(request)
        if isinstance(body, web.Response):
            return body
        if not body.get("callBackUrl"):
            return self.invalid("callBackUrl is required", code=400)  # Suno, unlike the others, insists
        if kind in _EXTENDS and not isinstance(body.get("defaultParamFlag"), bool):
            return self.invalid("defaultParamFlag is required")
        if problem := self.missing(body, *required, *_mode_fields(body, kind)):
            return problem
        if kind in _EXTENDS and body.get("defaultParamFlag") and not _positive(body.get("continueAt")):
            return self.invalid("continueAt must be greater than 0")
        if kind == "EXTEND" and (problem := self._check_source(request, body)):
            return problem
        return await self.engine.submit(
            request,
            self,
            kind=kind,
            model=str(body.get("model") or "V4_5"),
            output="audio",
            body=body,
            callback_url=body["callBackUrl"],
            n_results=TRACKS,
        )

    def _check_source(self, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        """The track to extend must belong to a finished Suno task of this account, made by ``model``."""
        account, audio_id = account_of(request), body["audioId"]
        for task in self.engine.tasks.values():
            if task.family.name != self.name or task.account != account or task.outcome != "success":
                continue
            if audio_id in (sub_id(task, f"track-{n}") for n in range(task.n_results)):
                if task.model != body["model"]:
                    return self.invalid(f"model must match the source audio's model ({task.model})")
                return None
        return self.invalid("audioId does not exist or its task has not succeeded")

    # --- shapes ---------------------------------------------------------------------------------

    def _ready(self, task: SimTask) -> int:
        """How many tracks have their final audio."""
        if task.outcome == "success":
            return TRACKS
        return 1 if task.stage_name == "FIRST_SUCCESS" and not task.plan.fails else 0

    def _tracks(self, task: SimTask, *, snake: bool) -> list[dict[str, Any]]:
        urls, ready = self.urls(task), self._ready(task)
        tracks = []
        for n in range(TRACKS):
            track = {
                "id": sub_id(task, f"track-{n}"),
                "audioUrl": urls[n] if n < ready else "",
                "streamAudioUrl": self.file_url(task, f"stream-{n}.mp3"),
                "imageUrl": self.file_url(task, f"cover-{n}.png"),
                "prompt": task.body.get("prompt", ""),
                "modelName": "chirp-" + task.model.lower().replace("_", "-"),
                "title": task.body.get("title") or "Simulated track",
                "tags": task.body.get("style") or task.body.get("tags") or "",
                "createTime": clock(task.created_at),
                "duration": _TRACK_SECONDS if n < ready else None,
            }
            tracks.append(_snake(track) if snake else track)
        return tracks

    def status_data(self, task: SimTask) -> dict[str, Any]:
        status = task.stage_name
        if task.outcome == "success":
            status = "SUCCESS"
        elif task.outcome == "fail":
            status = _failure_status(task.fail_code)
        elif task.plan.fails:
            status = "PENDING"  # a doomed task never reaches the text stage
        in_progress_tracks = status in ("TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS")
        return {
            "taskId": task.task_id,
            "parentMusicId": "",
            "param": task.param,
            "response": {
                "taskId": task.task_id,
                "sunoData": self._tracks(task, snake=False) if in_progress_tracks else [],
            },
            "status": status,
            "type": task.kind,
            "errorCode": task.fail_code,
            "errorMessage": task.fail_msg or None,
        }

    def _callback(self, task: SimTask, callback_type: str) -> Callback:
        tracks = self._tracks(task, snake=True)
        data = {"callbackType": callback_type, "task_id": task.task_id, "data": tracks}
        return callback_type, {"code": 200, "msg": _STAGE_MESSAGES[callback_type], "data": data}

    def stage_callback(self, task: SimTask) -> Callback | None:
        if task.plan.fails:
            return None
        return self._callback(task, "text" if task.stage_name == "TEXT_SUCCESS" else "first")

    def final_callback(self, task: SimTask) -> Callback:
        if task.outcome == "success":
            return self._callback(task, "complete")
        data = {"callbackType": "error", "task_id": task.task_id, "data": None}
        return "error", {"code": task.fail_code, "msg": task.fail_msg, "data": data}


_EXTENDS = ("EXTEND", "UPLOAD_EXTEND")


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _mode_fields(body: dict[str, Any], kind: str) -> tuple[str, ...]:
    """Fields required by Suno's custom/non-custom modes (add-instrumental has no modes; the extends name
    theirs ``defaultParamFlag``: without it extend inherits everything, upload-extend needs a prompt)."""
    if kind == "ADD_INSTRUMENTAL":
        return ()
    if kind in _EXTENDS:
        if not body.get("defaultParamFlag"):
            return ("prompt",) if kind == "UPLOAD_EXTEND" else ()
        return ("style", "title") if body.get("instrumental") else ("style", "title", "prompt")
    if not body.get("customMode"):
        return ("prompt",)
    return ("style", "title") if body.get("instrumental") else ("style", "title", "prompt")


def _failure_status(code: int | None) -> str:
    if code == 400:
        return "SENSITIVE_WORD_ERROR"
    if code in (422, 451):
        return "CREATE_TASK_FAILED"
    return "GENERATE_AUDIO_FAILED"


def _snake(track: dict[str, Any]) -> dict[str, Any]:
    """The callback spells track fields in snake case (``audio_url``), record-info in camel case."""
    names = {
        "audioUrl": "audio_url",
        "streamAudioUrl": "stream_audio_url",
        "imageUrl": "image_url",
        "modelName": "model_name",
    }
    return {names.get(key, key): value for key, value in track.items()}
