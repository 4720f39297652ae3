"""Suno: music generation, upload-cover and add-instrumental; staged callbacks, several tracks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kie.adapters.base import Adapter
from kie.envelope import OK, Envelope, task_id_in
from kie.errors import KieError, KieParseError
from kie.fields import first_text, mapping, text
from kie.models import MediaType, ModelRef, ResultFile, TaskState, TaskStatus

_REFUNDED = 531  # "generation failed, credits refunded": the task is over, not the request

_STATUSES: dict[str, TaskState] = {
    "PENDING": TaskState.IN_PROGRESS,
    "TEXT_SUCCESS": TaskState.IN_PROGRESS,
    "FIRST_SUCCESS": TaskState.IN_PROGRESS,
    "SUCCESS": TaskState.SUCCEEDED,
    "CREATE_TASK_FAILED": TaskState.FAILED,
    "GENERATE_AUDIO_FAILED": TaskState.FAILED,
    "CALLBACK_EXCEPTION": TaskState.FAILED,
    "SENSITIVE_WORD_ERROR": TaskState.FAILED,
}

# The stages of a callback whose code is OK ("error" is handled with the failures).
_CALLBACK_STAGES: dict[str, TaskState] = {
    "text": TaskState.IN_PROGRESS,
    "first": TaskState.IN_PROGRESS,
    "complete": TaskState.SUCCEEDED,
}

# Record-info tracks are camelCase, callback tracks snake_case; covers also name the source audio.
_AUDIO_KEYS = ("audioUrl", "audio_url", "sourceAudioUrl", "source_audio_url")
_MODELS = frozenset({"V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5"})


def _status_state(status: str) -> TaskState | None:
    known = _STATUSES.get(status.upper())
    if known is None and status.upper().endswith(("_FAILED", "_ERROR", "_EXCEPTION")):
        return TaskState.FAILED  # failure words KIE may add; a task never recovers from them
    return known


class SunoAdapter(Adapter):
    api = "suno"
    create_path = "/api/v1/generate"
    status_path = "/api/v1/generate/record-info"
    media = MediaType.AUDIO
    selectors: ClassVar[Mapping[str, frozenset[str]]] = {
        "/api/v1/generate": _MODELS,
        "/api/v1/generate/upload-cover": _MODELS,
        "/api/v1/generate/add-instrumental": frozenset({"V4_5PLUS", "V5", "V5_5"}),
    }

    def create_body(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
        if not callback_url:
            raise ValueError("Suno requires a callBackUrl")
        return super().create_body(model, inputs, callback_url)

    def final_by_code(self, envelope: Envelope, error: KieError, task_id: str | None) -> TaskStatus | None:
        if error.code != _REFUNDED:
            return None
        found = task_id_in(envelope.body) or task_id
        if not found:
            return None
        return self.failed(found, code=str(_REFUNDED), message=envelope.message, stage=None)

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        stage = text(data.get("status"))
        state = _status_state(stage) if stage else None
        if state is None:
            raise KieParseError(f"suno status: unknown status {data.get('status')!r}")
        if state is TaskState.SUCCEEDED:
            tracks = mapping(data.get("response")).get("sunoData")
            return self.succeeded(task_id, self._tracks(model, tracks), stage=stage)
        if state is TaskState.FAILED:
            # Without an errorCode the status word itself is the most precise code we have.
            code = text(data.get("errorCode")) or stage
            return self.failed(task_id, code=code, message=text(data.get("errorMessage")), stage=stage)
        return self.in_progress(task_id, stage=stage)

    def read_callback(self, envelope: Envelope, model: ModelRef, task_id: str) -> TaskStatus:
        data = mapping(envelope.data)
        stage = text(data.get("callbackType"))
        if envelope.code in (None, OK) and stage is not None and stage.lower() == "error":
            # An "error" stage under an OK code: the envelope message is the only explanation.
            message = first_text(data, "errorMessage") or envelope.message
            return self.failed(task_id, code=first_text(data, "errorCode"), message=message, stage=stage)
        return super().read_callback(envelope, model, task_id)

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        stage = text(data.get("callbackType"))
        state = _CALLBACK_STAGES.get(stage.lower()) if stage else None
        if state is None:
            raise KieParseError(f"suno callback: unknown callbackType {data.get('callbackType')!r}")
        if state is TaskState.SUCCEEDED:
            return self.succeeded(task_id, self._tracks(model, data.get("data")), stage=stage)
        # `first` may already carry a finished track: it is delivered with the final result, not now.
        return self.in_progress(task_id, stage=stage)

    def _tracks(self, model: ModelRef, tracks: Any) -> list[ResultFile]:
        if tracks is None:
            return []
        if not isinstance(tracks, list):
            raise KieParseError(f"suno: expected a list of tracks, got {type(tracks).__name__}")
        files: list[ResultFile] = []
        for track in map(mapping, tracks):
            url = first_text(track, *_AUDIO_KEYS)
            if url is not None:  # a track still being rendered has no URL yet
                media = self.media_for(model, url)
                files.append(ResultFile(url=url, media_type=media, title=text(track.get("title"))))
        return files
