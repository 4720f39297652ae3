"""The variations KIE's documentation allows in Suno answers and staged callbacks, applied to its own
examples."""

from __future__ import annotations

from typing import Any

import pytest

from kie.errors import KieParseError
from kie.models import CallbackInfo, MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.parsing import callback, status
from tests.kie.support import SUNO, load


def suno_callback(callback_type: str, tracks: Any, code: int = 200) -> dict[str, Any]:
    return {
        "code": code,
        "msg": "m",
        "data": {"callbackType": callback_type, "task_id": "s1", "data": tracks},
    }


@pytest.mark.parametrize("stage", ["text", "first"])
def test_suno_intermediate_callbacks(stage: str) -> None:
    tracks = load("suno_callback_complete.json")["data"]["data"]
    assert callback(suno_callback(stage, tracks), SUNO) == CallbackInfo(
        task_id="s1",
        status=TaskStatus(task_id="s1", state=TaskState.IN_PROGRESS, stage=stage),
        callback_type=stage,
    )


@pytest.mark.parametrize("key", ["audio_url", "audioUrl", "source_audio_url"])
def test_suno_complete_track_url_spellings(key: str) -> None:
    tracks = [{key: "https://x/1.mp3", "title": "A"}, {key: "https://x/2.mp3", "title": "B"}]
    result = callback(suno_callback("complete", tracks), SUNO).status
    assert result.files == [
        ResultFile(url="https://x/1.mp3", media_type=MediaType.AUDIO, title="A"),
        ResultFile(url="https://x/2.mp3", media_type=MediaType.AUDIO, title="B"),
    ]


@pytest.mark.parametrize(
    ("code", "callback_type"), [(531, "error"), (501, "error"), (400, "complete"), (200, "error")]
)
def test_suno_failed_callbacks(code: int, callback_type: str) -> None:
    info = callback(suno_callback(callback_type, None, code=code), SUNO)
    assert info.status.state is TaskState.FAILED
    assert info.status.fail_code == (None if code == 200 else str(code))
    assert info.status.fail_message == "m"


def test_suno_unknown_callback_type_is_a_nudge() -> None:
    assert callback(suno_callback("surprise", None), SUNO).status is None


def suno_record(**data: Any) -> dict[str, Any]:
    body = load("suno_record_info_success.json")
    body["data"].update(data)
    return body


@pytest.mark.parametrize("word", ["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"])
def test_suno_running_statuses(word: str) -> None:
    assert status(suno_record(status=word), SUNO) == TaskStatus(
        task_id="5c79****be8e", state=TaskState.IN_PROGRESS, stage=word
    )


@pytest.mark.parametrize(
    "word",
    [
        "CREATE_TASK_FAILED",
        "GENERATE_AUDIO_FAILED",
        "CALLBACK_EXCEPTION",
        "SENSITIVE_WORD_ERROR",
        "NEW_THING_FAILED",
    ],
)
def test_suno_failed_statuses(word: str) -> None:
    result = status(suno_record(status=word, response=None), SUNO)
    assert (result.state, result.fail_code, result.files) == (TaskState.FAILED, word, [])


def test_suno_failure_keeps_its_error_code() -> None:
    result = status(
        suno_record(status="GENERATE_AUDIO_FAILED", errorCode=413, errorMessage="Text too long"), SUNO
    )
    assert (result.fail_code, result.fail_message) == ("413", "Text too long")


def test_suno_code_531_on_status_means_the_task_failed() -> None:
    body = {"code": 531, "msg": "Generation failed, credits refunded", "data": {"taskId": "5c79"}}
    assert status(body, SUNO) == TaskStatus(
        task_id="5c79",
        state=TaskState.FAILED,
        fail_code="531",
        fail_message="Generation failed, credits refunded",
    )
    assert status({"code": 531, "msg": "refunded"}, SUNO, task_id="asked").task_id == "asked"


def test_suno_success_without_tracks_is_unparseable() -> None:
    with pytest.raises(KieParseError):
        status(suno_record(response={"sunoData": [{"audioUrl": ""}]}), SUNO)
