"""Suno: music generation, upload-cover, add-instrumental, extend and upload-extend; staged callbacks,
several tracks.

Extend (``POST /api/v1/generate/extend``) continues one *track* of an earlier generation: KIE wants its
``audioId`` (``sunoData[].id``) and the same ``model`` as the source, while the rest of Genflow only knows the
earlier generation's task id. So ``audioId`` may carry a task reference, ``<taskId>`` (its first take) or
``<taskId>:<n>`` (take ``n``, 0-based, in delivery order); the create then first reads that task's
record-info (a read: nothing is created if it fails) and sends the track's id, and the source's model when
the inputs name none. A UUID-shaped value (8-4-4-4-12) is a Suno audio id already and is sent as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from kie.adapters.base import Adapter, StatusRequest, status_error
from kie.envelope import OK, Envelope, read_envelope, require_task_id, task_id_in
from kie.errors import KieError, KieParseError, Kind
from kie.fields import first_text, json_value, mapping, reading, text
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

EXTEND = "/api/v1/generate/extend"
# Audio ids are UUIDs (the docs mask theirs: "e231****-****-****-****-****8cadc7dc"); Suno task ids are not.
_AUDIO_ID = re.compile(r"^[^-:\s]{8}-[^-:\s]{4}-[^-:\s]{4}-[^-:\s]{4}-[^-:\s]{12}$")


def track_reference(value: Any) -> tuple[str, int] | None:
    """(task id, take) when an ``audioId`` names an earlier task rather than a track; None for an audio id."""
    raw = text(value)
    if raw is None or _AUDIO_ID.match(raw):
        return None
    task_id, colon, take = raw.rpartition(":")
    if colon and take.isdigit() and task_id:
        return task_id, int(take)
    return raw, 0


def _model_of(record: Mapping[str, Any], tracks: list[Mapping[str, Any]]) -> str | None:
    """The model that made a task: its create body's ``model`` (``param``), else a track's ``modelName``
    (``chirp-v4-5plus`` → ``V4_5PLUS``)."""
    try:
        param = json_value(record.get("param"), what="suno param")
    except KieParseError:
        param = None  # a garbled echo of the old request: the tracks may still say
    named = text(mapping(param).get("model"))
    if named in _MODELS:
        return named
    for track in tracks:
        name = first_text(track, "modelName", "model_name") or ""
        guess = name.lower().removeprefix("chirp-").upper().replace("-", "_")
        if guess in _MODELS:
            return guess
    return None


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
        EXTEND: _MODELS,
        "/api/v1/generate/upload-extend": _MODELS,
    }

    def create_body(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
        if not callback_url:
            raise ValueError("Suno requires a callBackUrl")
        return super().create_body(model, inputs, callback_url)

    def lookup_request(self, model: ModelRef, inputs: Mapping[str, Any]) -> StatusRequest | None:
        reference = track_reference(inputs.get("audioId")) if model.endpoint == EXTEND else None
        if reference is None:
            return None
        return "GET", model.status_endpoint or self.status_path, {"taskId": reference[0]}

    def resolve_inputs(
        self, model: ModelRef, inputs: Mapping[str, Any], body: Any, http_status: int
    ) -> Mapping[str, Any]:
        reference = track_reference(inputs.get("audioId"))
        if reference is None:
            return inputs
        task_id, take = reference
        what = f"suno look-up of task {task_id}"
        with reading(what):
            envelope = read_envelope(body, what=what, http_status=http_status)
            error = envelope.error(http_status)
            if error is not None:
                raise status_error(error)
            require_task_id(body, what=what, expected=task_id)
            record = mapping(envelope.data)
            status = text(record.get("status"))
            if status is None or _status_state(status) is not TaskState.SUCCEEDED:
                raise _refused(f"Suno task {task_id} has not succeeded (status {status}): nothing to extend")
            raw_tracks = mapping(record.get("response")).get("sunoData")
            tracks = [mapping(track) for track in raw_tracks] if isinstance(raw_tracks, list) else []
            if not 0 <= take < len(tracks):
                raise _refused(f"Suno task {task_id} has {len(tracks)} track(s), no take {take}")
            audio_id = text(tracks[take].get("id"))
            if audio_id is None:
                raise KieParseError(f"{what}: take {take} has no id")
            resolved = {**inputs, "audioId": audio_id}
            if not text(inputs.get("model")):
                source_model = _model_of(record, tracks)
                if source_model is not None:
                    resolved["model"] = source_model  # KIE: the model must match the source track's
            return resolved

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


def _refused(message: str) -> KieError:
    """The earlier task has no such track to extend: this request will never work (nothing was created).
    404, not 422: the inputs are fine, the thing they name is not there."""
    return KieError(message, code=404, kind=Kind.PERMANENT_USER)
