"""The variations KIE's documentation allows in Market answers and callbacks, applied to its own examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kie.errors import KieParseError
from kie.models import CallbackInfo, MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.parsing import GENERATED, callback, market_success, status
from tests.kie.support import GROK_IMAGE, NANO_BANANA, Model, load


@pytest.mark.parametrize(
    "result_json",
    [
        {"resultUrls": [GENERATED]},  # already an object
        json.dumps({"resultUrls": [GENERATED], "firstFrameUrl": "https://x/first.jpg"}),
        json.dumps({"resultUrls": GENERATED}),  # a lone string
    ],
)
def test_market_result_json_shapes(result_json: Any) -> None:
    body = market_success()
    body["data"]["resultJson"] = result_json
    assert status(body, GROK_IMAGE).files == [ResultFile(url=GENERATED, media_type=MediaType.IMAGE)]


@pytest.mark.parametrize(
    "result_json",
    ["{not json", "", None, "[1, 2]", json.dumps({"resultObject": {"text": "hi"}})],
    ids=["invalid", "empty", "null", "array", "text-model"],
)
def test_market_success_without_readable_urls(result_json: Any) -> None:
    body = market_success()
    body["data"]["resultJson"] = result_json
    with pytest.raises(KieParseError):
        status(body, GROK_IMAGE)


def test_market_fail_ignores_broken_result_json_and_null_fields() -> None:
    body = load("market_recordInfo_fail.json")
    body["data"].update(resultJson="{broken", failCode=None)
    del body["data"]["failMsg"]
    assert status(body, GROK_IMAGE) == TaskStatus(
        task_id="task_12345678", state=TaskState.FAILED, stage="fail"
    )


def test_market_fail_code_as_number() -> None:
    body = load("market_recordInfo_fail.json")
    body["data"]["failCode"] = 422
    assert status(body, GROK_IMAGE).fail_code == "422"


@pytest.mark.parametrize("state", ["waiting", "queuing", "queueing", "generating", "GENERATING"])
def test_market_running_states(state: str) -> None:
    body = load("market_recordInfo_waiting.json")
    body["data"].update(state=state, progress=45)
    result = status(body, GROK_IMAGE)
    assert (result.state, result.progress, result.files) == (TaskState.IN_PROGRESS, 0.45, [])


@pytest.mark.parametrize("state", [None, "", "exploded", 3])
def test_market_unknown_state(state: Any) -> None:
    body = market_success()
    body["data"]["state"] = state
    with pytest.raises(KieParseError):
        status(body, GROK_IMAGE)


@pytest.mark.parametrize(
    ("complete_time", "create_time"),
    [(1698765432, 1698765400), ("2024-03-20T10:30:00Z", "2024-03-20T10:25:00Z"), (None, None)],
)
def test_market_times_in_any_unit_do_not_matter(complete_time: Any, create_time: Any) -> None:
    body = market_success()
    body["data"].update(completeTime=complete_time, createTime=create_time)
    assert status(body, GROK_IMAGE) == status(market_success(), GROK_IMAGE)


def test_market_callback_with_missing_fields() -> None:
    body = load("market_callback_success.json")
    for key in ("consumeCredits", "remainedCredits", "param", "costTime", "model"):
        del body["data"][key]
    del body["msg"]
    assert (
        callback(body, NANO_BANANA).status
        == callback(load("market_callback_success.json"), NANO_BANANA).status
    )


def test_market_callback_failure_without_fail_fields_uses_envelope() -> None:
    body = load("market_callback_fail.json")
    body["data"].update(failCode=None, failMsg="")
    info = callback(body, NANO_BANANA)
    assert info.status is not None
    assert (info.status.fail_code, info.status.fail_message) == ("501", "Playground task failed.")


def test_market_media_type_comes_from_model_output_then_url() -> None:
    body = market_success()
    body["data"]["resultJson"] = json.dumps({"resultUrls": ["https://x/clip.mp4?sig=1", "https://x/blob"]})
    as_video = status(body, Model("some/video", "market", "", "", "video"))
    assert [f.media_type for f in as_video.files] == [MediaType.VIDEO, MediaType.VIDEO]
    guessed = status(body, Model("some/thing", "market", "", "", "text"))
    assert [f.media_type for f in guessed.files] == [MediaType.VIDEO, MediaType.UNKNOWN]


def test_unreadable_callback_outcome_is_only_a_nudge() -> None:
    body = load("market_callback_success.json")
    body["data"]["resultJson"] = "{broken"
    assert callback(body, NANO_BANANA) == CallbackInfo(
        task_id="e989621f54392584b05867f87b160672", status=None
    )
