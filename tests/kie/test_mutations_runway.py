"""The variations KIE's documentation allows in Runway and Aleph answers and callbacks, applied to their own
examples."""

from __future__ import annotations

from typing import Any

import pytest

from kie.adapters import adapter_for
from kie.models import ResultFile, TaskState, TaskStatus
from tests.kie.parsing import callback, status
from tests.kie.support import ALEPH, RUNWAY, load


@pytest.mark.parametrize("state", ["wait", "queueing", "queuing", "generating"])
def test_runway_running_spellings(state: str) -> None:
    body = load("runway_record_detail_success.json")
    body["data"]["state"] = state
    assert status(body, RUNWAY) == TaskStatus(
        task_id="ee603959-debb-48d1-98c4-a6d1c717eba6", state=TaskState.IN_PROGRESS, stage=state
    )


def test_runway_failure() -> None:
    body = load("runway_record_detail_success.json")
    body["data"].update(state="fail", failCode=400, failMsg="Generation failed, please try again later")
    result = status(body, RUNWAY)
    assert (result.state, result.fail_code, result.files) == (TaskState.FAILED, "400", [])


def test_runway_callback_failure() -> None:
    body = {
        "code": 400,
        "msg": "Inappropriate content detected. Please replace the image or video.",
        "data": {"task_id": "rw1", "video_id": "", "video_url": "", "image_url": ""},
    }
    result = callback(body, RUNWAY).status
    assert (result.state, result.fail_code) == (TaskState.FAILED, "400")


def aleph_record(**data: Any) -> dict[str, Any]:
    record = {
        "taskId": "al1",
        "paramJson": "{}",
        "response": {
            "taskId": "al1",
            "resultVideoUrl": "https://file.com/k/a.mp4",
            "resultImageUrl": "https://file.com/m/a.png",
        },
        "completeTime": "2023-08-15T14:30:45Z",
        "successFlag": 1,
        "errorCode": 0,
        "errorMessage": "",
    }
    return {"code": 200, "msg": "success", "data": {**record, **data}}


def test_aleph_status() -> None:
    assert status(aleph_record(), ALEPH).files == [
        ResultFile(url="https://file.com/k/a.mp4", media_type="video")
    ]
    assert status(aleph_record(successFlag=0, response=None), ALEPH).state is TaskState.IN_PROGRESS
    failed = status(
        aleph_record(successFlag=0, response=None, errorMessage="Unsupported width or height"), ALEPH
    )
    assert (failed.state, failed.fail_message) == (TaskState.FAILED, "Unsupported width or height")


def test_aleph_callbacks_carry_the_task_id_at_the_top() -> None:
    ok = {
        "code": 200,
        "msg": "success",
        "taskId": "al1",
        "data": {
            "result_video_url": "https://file.com/k/a.mp4",
            "result_image_url": "https://file.com/m/a.png",
        },
    }
    assert callback(ok, ALEPH).status.files == [
        ResultFile(url="https://file.com/k/a.mp4", media_type="video")
    ]
    bad = {"code": 400, "msg": "Your prompt was caught by our AI moderator.", "data": None, "taskId": "al1"}
    assert callback(bad, ALEPH).status.fail_code == "400"


def test_aleph_uses_its_own_endpoints() -> None:
    adapter = adapter_for("runway")
    assert (
        adapter.create_request(ALEPH, {"prompt": "p", "videoUrl": "v"}, "https://cb")[1]
        == "/api/v1/aleph/generate"
    )
    assert adapter.status_request(ALEPH, "al1") == ("GET", "/api/v1/aleph/record-info", {"taskId": "al1"})
