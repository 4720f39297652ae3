"""The variations KIE's documentation allows, applied to its own examples."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest

from kie.adapters import adapter_for
from kie.callbacks import extract_task_id, parse_callback
from kie.errors import KieError, KieParseError, Kind, UserReason
from kie.models import CallbackInfo, MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.support import (
    ALEPH,
    FLUX,
    GPT4O,
    GROK_IMAGE,
    NANO_BANANA,
    RUNWAY,
    SUNO,
    SUNO_COVER,
    SUNO_INSTRUMENTAL,
    VEO,
    VEO_EXTEND,
    VEO_FAST,
    Model,
    load,
)


def status(body: Any, model: Model, **kwargs: Any) -> TaskStatus:
    return adapter_for(model.api).parse_status(body, 200, model, **kwargs)


def callback(body: Any, model: Model) -> CallbackInfo:
    return adapter_for(model.api).parse_callback(body, model)


def market_success() -> dict[str, Any]:
    return load("market_recordInfo_success_openapi.json")


GENERATED = "https://example.com/generated-content.jpg"

# --- envelope ------------------------------------------------------------------------------------


def test_message_is_read_like_msg() -> None:
    with pytest.raises(KieError) as caught:
        status({"code": 404, "message": "Task not found"}, NANO_BANANA)
    assert caught.value.message == "Task not found"


@pytest.mark.parametrize("code", [200, "200", None])
def test_ok_code_as_int_string_or_absent(code: Any) -> None:
    body = market_success()
    if code is None:
        del body["code"]
    else:
        body["code"] = code
    assert status(body, GROK_IMAGE).state is TaskState.SUCCEEDED


def test_error_code_as_string() -> None:
    with pytest.raises(KieError) as caught:
        status({"code": "422", "msg": "recordInfo is null", "data": None}, NANO_BANANA)
    assert (caught.value.code, caught.value.kind) == (422, Kind.TRANSIENT)


def test_other_422_on_status_stays_permanent() -> None:
    with pytest.raises(KieError) as caught:
        status({"code": 422, "msg": "Invalid task ID format"}, NANO_BANANA)
    assert caught.value.kind is Kind.PERMANENT_USER


def test_http_status_counts_when_body_says_ok() -> None:
    with pytest.raises(KieError) as caught:
        adapter_for("market").parse_status({"code": 200, "msg": "ok", "data": None}, 503, NANO_BANANA)
    assert (caught.value.code, caught.value.http_status, caught.value.transient) == (503, 503, True)


def test_body_code_wins_over_http_status() -> None:
    with pytest.raises(KieError) as caught:
        adapter_for("market").parse_status(load("error_401_missing_headers.json"), 401, NANO_BANANA)
    assert (caught.value.code, caught.value.operator) == (401, True)


@pytest.mark.parametrize(
    "body",
    [None, [], "oops", 42, {"code": "abc"}, {"code": 200, "msg": "success"}, {"code": 200, "data": [1]}],
    ids=["null", "list", "text", "number", "bad-code", "no-data", "data-list"],
)
def test_unreadable_status_answers(body: Any) -> None:
    with pytest.raises(KieParseError) as caught:
        status(body, NANO_BANANA, task_id="t1")
    assert caught.value.transient


# --- task id placement ---------------------------------------------------------------------------


def _place(body: dict[str, Any], where: str, task_id: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for key in ("taskId", "task_id"):
        body.pop(key, None)
        body["data"].pop(key, None)
    if where == "top":
        body["taskId"] = task_id
    else:
        body["data"][where] = task_id
    return body


@pytest.mark.parametrize("where", ["top", "taskId", "task_id"])
def test_task_id_in_each_place(where: str) -> None:
    assert status(_place(market_success(), where, "T-9"), GROK_IMAGE).task_id == "T-9"
    cb = _place(load("runway_callback_success.json"), where, "T-9")
    assert extract_task_id(cb) == "T-9"
    assert callback(cb, RUNWAY).task_id == "T-9"
    answer = _place(load("market_createTask_response.json"), where, "T-9")
    assert adapter_for("market").parse_create(answer, 200) == "T-9"


def test_agreeing_task_ids_in_all_places() -> None:
    # The shape of KIE's webhook-verification example: top-level taskId and data.task_id.
    body = {"taskId": "ee9c", "code": 200, "data": {"task_id": "ee9c", "taskId": "ee9c"}}
    assert extract_task_id(body) == "ee9c"


@pytest.mark.parametrize(
    "body",
    [
        {"taskId": "a", "data": {"task_id": "b"}},
        {"data": {"taskId": "a", "task_id": "b"}},
        {"taskId": "a", "data": {"taskId": "a", "task_id": "b"}},
        {"taskId": 123, "data": {}},
    ],
)
def test_disagreeing_or_odd_task_ids_are_unparseable(body: dict[str, Any]) -> None:
    assert extract_task_id(body) is None
    with pytest.raises(KieParseError):
        callback({**body, "code": 200}, RUNWAY)
    with pytest.raises(KieParseError):
        adapter_for("market").parse_create({**body, "code": 200}, 200)


@pytest.mark.parametrize(
    "body", [None, "x", [], {}, {"data": None}, {"taskId": "", "data": {"task_id": None}}]
)
def test_no_task_id(body: Any) -> None:
    assert extract_task_id(body) is None


def test_status_without_task_id_uses_the_one_asked_about() -> None:
    body = market_success()
    del body["data"]["taskId"]
    assert status(body, GROK_IMAGE, task_id="asked").task_id == "asked"
    with pytest.raises(KieParseError):
        status(body, GROK_IMAGE)


def test_status_about_another_task_is_rejected() -> None:
    with pytest.raises(KieParseError, match="not 'other'"):
        status(market_success(), GROK_IMAGE, task_id="other")


def test_create_answer_without_task_id_is_ambiguous() -> None:
    with pytest.raises(KieParseError) as caught:
        adapter_for("market").parse_create({"code": 200, "msg": "success", "data": {}}, 200)
    assert caught.value.ambiguous and caught.value.transient


def test_create_refused_is_not_ambiguous() -> None:
    with pytest.raises(KieError) as caught:
        adapter_for("veo").parse_create({"code": 402, "msg": "Insufficient credits"}, 200)
    assert (caught.value.operator, caught.value.ambiguous) == (True, False)


# --- Market --------------------------------------------------------------------------------------


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


# --- Veo, Flux Kontext, 4o (successFlag families) ------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "state"),
    [
        (0, TaskState.IN_PROGRESS),
        ("0", TaskState.IN_PROGRESS),
        (1, TaskState.SUCCEEDED),
        ("1", TaskState.SUCCEEDED),
        (2, TaskState.FAILED),
        ("3", TaskState.FAILED),
        (3, TaskState.FAILED),
    ],
)
def test_veo_and_flux_flags(flag: Any, state: TaskState) -> None:
    for name, model in (
        ("veo_record_info_success.json", VEO),
        ("flux_kontext_record_info_success.json", FLUX),
    ):
        body = load(name)
        body["data"]["successFlag"] = flag
        result = status(body, model)
        assert result.state is state
        assert bool(result.files) is (state is TaskState.SUCCEEDED)


@pytest.mark.parametrize("flag", [7, "abc", None, [1]])
def test_unknown_flags(flag: Any) -> None:
    body = load("veo_record_info_success.json")
    body["data"]["successFlag"] = flag
    with pytest.raises(KieParseError):
        status(body, VEO)


def test_veo_upstream_failure() -> None:
    body = load("veo_record_info_success.json")
    body["data"].update(
        successFlag=3, errorCode=500, errorMessage="upstream generation failed", response=None
    )
    assert status(body, VEO) == TaskStatus(
        task_id="veo_task_abcdef123456",
        state=TaskState.FAILED,
        fail_code="500",
        fail_message="upstream generation failed",
        stage="3",
    )


def test_veo_result_urls_as_json_string_and_full_result_fallback() -> None:
    body = load("veo_record_info_success.json")
    body["data"]["response"]["resultUrls"] = '["http://example.com/v.mp4"]'
    assert [f.url for f in status(body, VEO).files] == ["http://example.com/v.mp4"]
    del body["data"]["response"]["resultUrls"]
    assert [f.url for f in status(body, VEO).files] == ["http://example.com/full_result.mp4"]


def test_flux_failure_flags() -> None:
    body = load("flux_kontext_record_info_success.json")
    body["data"].update(successFlag=2, errorCode=400, errorMessage="Flagged by moderation", response=None)
    result = status(body, FLUX)
    assert (result.state, result.fail_code, result.fail_message) == (
        TaskState.FAILED,
        "400",
        "Flagged by moderation",
    )


def test_4o_progress_string_and_result_urls_spelling() -> None:
    body = load("gpt4o_record_info_success_openapi.json")
    body["data"].update(successFlag=0, status="GENERATING", progress="0.45", response=None)
    running = status(body, GPT4O)
    assert (running.state, running.progress, running.stage) == (TaskState.IN_PROGRESS, 0.45, "GENERATING")

    body = load("gpt4o_record_info_success_openapi.json")
    body["data"]["response"] = {"result_urls": ["https://example.com/a.png", "https://example.com/b.png"]}
    assert [f.url for f in status(body, GPT4O).files] == [
        "https://example.com/a.png",
        "https://example.com/b.png",
    ]


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("GENERATING", TaskState.IN_PROGRESS),
        ("SUCCESS", TaskState.SUCCEEDED),
        ("CREATE_TASK_FAILED", TaskState.FAILED),
        ("GENERATE_FAILED", TaskState.FAILED),
    ],
)
def test_4o_status_word_without_flag(word: str, state: TaskState) -> None:
    body = load("gpt4o_record_info_success_openapi.json")
    body["data"].update(successFlag=None, status=word)
    assert status(body, GPT4O).state is state


def test_4o_failure_callback() -> None:
    body = {
        "code": 451,
        "msg": "Failed to download image from filesUrl",
        "data": {"taskId": "t4", "info": None},
    }
    info = callback(body, GPT4O)
    assert info.status == TaskStatus(
        task_id="t4",
        state=TaskState.FAILED,
        fail_code="451",
        fail_message="Failed to download image from filesUrl",
    )


def test_4o_callback_with_result_urls_camel_case() -> None:
    body = load("gpt4o_callback_success.json")
    body["data"]["info"] = {"resultUrls": ["https://example.com/r.png"]}
    assert callback(body, GPT4O).status.files == [
        ResultFile(url="https://example.com/r.png", media_type="image")
    ]


# --- Runway and Aleph ----------------------------------------------------------------------------


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


# --- Suno ----------------------------------------------------------------------------------------


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


# --- create requests -----------------------------------------------------------------------------


def test_market_create_without_callback_url() -> None:
    assert adapter_for("market").create_request(NANO_BANANA, {"prompt": "p"}, "")[2] == {
        "model": "google/nano-banana",
        "input": {"prompt": "p"},
    }


def test_selector_from_catalog_id_only_when_it_is_a_real_selector() -> None:
    veo = adapter_for("veo")
    assert veo.create_request(VEO_FAST, {"prompt": "p"}, "https://cb")[2]["model"] == "veo3_fast"
    assert "model" not in veo.create_request(VEO, {"prompt": "p"}, "https://cb")[2]  # "veo3.1" is a label
    chosen = veo.create_request(VEO_FAST, {"prompt": "p", "model": "veo3"}, "")[2]
    assert chosen["model"] == "veo3"  # the inputs' choice wins
    method, path, body = veo.create_request(VEO_EXTEND, {"taskId": "veo_1", "prompt": "more"}, "https://cb")
    assert (method, path, body) == (
        "POST",
        "/api/v1/veo/extend",
        {"taskId": "veo_1", "prompt": "more", "callBackUrl": "https://cb"},
    )


def test_our_callback_url_wins_and_inputs_are_not_mutated() -> None:
    inputs = {"prompt": "p", "callBackUrl": "https://evil"}
    body = adapter_for("runway").create_request(RUNWAY, inputs, "https://ours")[2]
    assert body == {"prompt": "p", "callBackUrl": "https://ours"}
    assert inputs == {"prompt": "p", "callBackUrl": "https://evil"}


@pytest.mark.parametrize(
    ("model", "path"),
    [
        (SUNO, "/api/v1/generate"),
        (SUNO_COVER, "/api/v1/generate/upload-cover"),
        (SUNO_INSTRUMENTAL, "/api/v1/generate/add-instrumental"),
    ],
)
def test_suno_endpoints_and_required_callback(model: Model, path: str) -> None:
    adapter = adapter_for("suno")
    inputs = {"uploadUrl": "https://u/a.mp3", "model": "V5"}
    assert adapter.create_request(model, inputs, "https://cb") == (
        "POST",
        path,
        {**inputs, "callBackUrl": "https://cb"},
    )
    assert adapter.status_request(model, "s1") == ("GET", "/api/v1/generate/record-info", {"taskId": "s1"})
    with pytest.raises(ValueError, match="callBackUrl"):
        adapter.create_request(model, inputs, "")


def test_unknown_api() -> None:
    with pytest.raises(ValueError, match="no KIE adapter"):
        adapter_for("luma")


def test_parse_callback_dispatches_on_the_model() -> None:
    assert parse_callback(load("veo_callback_fail.json"), VEO).status.fail_code == "400"


# --- nothing but KieError ever escapes -----------------------------------------------------------

GARBAGE: list[Any] = [
    None,
    "",
    "x",
    3,
    [],
    [{}],
    {},
    {"code": {}},
    {"code": 200, "data": "x"},
    {"code": 200, "data": {"taskId": "t", "state": 5, "successFlag": {}, "status": []}},
    {
        "code": 200,
        "data": {
            "taskId": "t",
            "state": "success",
            "successFlag": 1,
            "status": "SUCCESS",
            "resultJson": "{",
            "response": "x",
            "videoInfo": [],
            "callbackType": "complete",
            "data": "x",
            "info": 7,
        },
    },
    {
        "code": 200,
        "data": {
            "taskId": "t",
            "state": "success",
            "successFlag": "1",
            "status": "SUCCESS",
            "resultJson": "[]",
            "response": {"resultUrls": [1], "sunoData": "x", "resultImageUrl": {}, "resultVideoUrl": 5},
            "progress": "fast",
            "callbackType": 5,
            "data": [1, None],
        },
    },
    {"code": 501, "taskId": ["t"], "data": {"task_id": {}}},
    {"code": 531, "data": None},
    {
        "code": 200,
        "data": {
            "taskId": "t",
            "progress": float("nan"),
            "state": "waiting",
            "successFlag": 0,
            "status": "PENDING",
            "callbackType": "text",
        },
    },
]
MODELS = [NANO_BANANA, VEO, RUNWAY, ALEPH, SUNO, GPT4O, FLUX]


@pytest.mark.parametrize("model", MODELS, ids=[m.id for m in MODELS])
def test_garbage_never_escapes_as_anything_but_kie_errors(model: Model) -> None:
    adapter = adapter_for(model.api)
    for body in GARBAGE:
        for http_status in (200, 500):
            for parse in (
                lambda b, s: adapter.parse_status(b, s, model),
                lambda b, s: adapter.parse_status(b, s, model, task_id="t"),
                lambda b, s: adapter.parse_create(b, s),
                lambda b, _s: adapter.parse_callback(b, model),
            ):
                with contextlib.suppress(KieError):
                    parse(body, http_status)


def test_kie_parse_error_for_status_reads_is_transient() -> None:
    with pytest.raises(KieParseError) as caught:
        status({"code": 200, "data": {"taskId": "t", "state": "success", "resultJson": "{"}}, NANO_BANANA)
    assert (caught.value.kind, caught.value.user_reason) == (
        Kind.TRANSIENT,
        UserReason.TEMPORARILY_UNAVAILABLE,
    )
    assert "resultJson" in str(caught.value)
