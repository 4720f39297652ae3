"""Runway: classic generate (``state`` words, ``videoInfo``) and Aleph video-to-video (``successFlag``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kie.adapters.base import Adapter
from kie.errors import KieParseError
from kie.fields import first_text, mapping, text, urls
from kie.models import MediaType, ModelRef, TaskState, TaskStatus

# Runway spells the queue state "queueing"; other pages say "queuing".
_STATES: dict[str, TaskState] = {
    "wait": TaskState.IN_PROGRESS,
    "waiting": TaskState.IN_PROGRESS,
    "queueing": TaskState.IN_PROGRESS,
    "queuing": TaskState.IN_PROGRESS,
    "generating": TaskState.IN_PROGRESS,
    "success": TaskState.SUCCEEDED,
    "fail": TaskState.FAILED,
    "failed": TaskState.FAILED,
}

# Callbacks: classic Runway sends data.video_url, Aleph data.result_video_url.
_VIDEO_KEYS = ("video_url", "videoUrl", "result_video_url", "resultVideoUrl")


def _is_aleph(model: ModelRef) -> bool:
    return "/aleph/" in f"{model.status_endpoint} {model.endpoint}"


def _aleph_urls(result: Mapping[str, Any]) -> list[str]:
    return urls(first_text(result, "resultVideoUrl", "result_video_url"), what="aleph resultVideoUrl")


class RunwayAdapter(Adapter):
    api = "runway"
    create_path = "/api/v1/runway/generate"
    status_path = "/api/v1/runway/record-detail"
    media = MediaType.VIDEO

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        if _is_aleph(model):
            # Aleph's page: "successFlag 0 and has errorMessage" is a failure, not a running task.
            return self.read_flagged(data, model, task_id, result_urls=_aleph_urls, error_means_failed=True)
        stage = text(data.get("state"))
        state = _STATES.get(stage.lower()) if stage else None
        if state is None:
            raise KieParseError(f"runway status: unknown state {data.get('state')!r}")
        if state is TaskState.SUCCEEDED:
            video = first_text(mapping(data.get("videoInfo")), "videoUrl", "video_url")
            found = urls(video, what="runway videoInfo.videoUrl")
            return self.succeeded(task_id, self.result_files(model, found), stage=stage)
        if state is TaskState.FAILED:
            return self.failed(
                task_id, code=text(data.get("failCode")), message=text(data.get("failMsg")), stage=stage
            )
        return self.in_progress(task_id, stage=stage)

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        video = first_text(data, *_VIDEO_KEYS) or first_text(mapping(data.get("videoInfo")), "videoUrl")
        return self.succeeded(
            task_id, self.result_files(model, urls(video, what="runway video_url")), stage=None
        )
