"""The Midjourney adapter over every documented answer shape, the shapes derived from the documented
schema (running, failed, flag 3), both spellings of the result URLs, and garbage.

Fixtures (tests/kie/fixtures/midjourney_*.json) are the data samples of docs.kie.ai:
``mj-api/generate-mj-image`` (request, create answer), ``mj-api/get-mj-task-details`` (record-info; the same
sample on the ``cn/`` page), ``mj-api/quickstart`` (short record-info), ``mj-api/generate-mj-image-callbacks``
(callback success and failure).
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest

from kie.adapters import MidjourneyAdapter, adapter_for
from kie.adapters.midjourney import result_urls, task_type_for
from kie.callbacks import extract_task_id, parse_callback
from kie.errors import KieError, KieParseError, Kind, UserReason
from kie.models import CallbackInfo, MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.support import Model, load

_PATHS = ("midjourney", "/api/v1/mj/generate", "/api/v1/mj/record-info")
MJ_T2I = Model("midjourney/text-to-image", *_PATHS, "image")
MJ_I2I = Model("midjourney/image-to-image", *_PATHS, "image")
MJ_VIDEO = Model("midjourney/image-to-video", *_PATHS, "video")
ADAPTER = adapter_for("midjourney")

DOC_TASK = "4edb3c5XXXXX75e3f0aa5cc"
DOC_URLS = [
    f"https://tempfile.aiquickdraw.com/v/42ea4a4250571eb18361bd2e309c8e8a_0_{n}.jpeg" for n in range(4)
]
CALLBACK_URLS = [f"https://example.com/mj_result{n}.png" for n in range(1, 5)]


def images(*found: str) -> list[ResultFile]:
    return [ResultFile(url=url, media_type=MediaType.IMAGE) for url in found]


def record(**changes: Any) -> dict[str, Any]:
    """The documented record-info answer with ``data`` fields changed (shapes the schema allows)."""
    body = copy.deepcopy(load("midjourney_record_info_success.json"))
    body["data"].update(changes)
    return body


def status(body: Any, model: Model = MJ_T2I, **kwargs: Any) -> TaskStatus:
    return ADAPTER.parse_status(body, 200, model, **kwargs)


# --- create ---------------------------------------------------------------------------------------


def test_registered_under_its_api() -> None:
    assert isinstance(ADAPTER, MidjourneyAdapter)


def test_the_documented_request_is_sent_as_is() -> None:
    documented = load("midjourney_generate_request.json")
    inputs = {key: value for key, value in documented.items() if key != "callBackUrl"}
    method, path, body = ADAPTER.create_request(MJ_T2I, inputs, documented["callBackUrl"])
    assert (method, path) == ("POST", "/api/v1/mj/generate")
    assert body == documented


def test_our_callback_url_wins_and_no_model_selector_is_added() -> None:
    inputs = {"taskType": "mj_txt2img", "prompt": "a cat", "callBackUrl": "https://evil"}
    body = ADAPTER.create_body(MJ_T2I, inputs, "https://ours/cb")
    assert body == {"taskType": "mj_txt2img", "prompt": "a cat", "callBackUrl": "https://ours/cb"}
    assert "callBackUrl" not in ADAPTER.create_body(MJ_T2I, {"prompt": "a cat"}, "")


@pytest.mark.parametrize(
    ("model", "inputs", "expected"),
    [
        (MJ_T2I, {"prompt": "a"}, "mj_txt2img"),
        (MJ_I2I, {"prompt": "a", "fileUrls": ["https://x/p.png"]}, "mj_img2img"),
        (MJ_I2I, {"prompt": "a", "fileUrl": "https://x/p.png"}, "mj_img2img"),
        (MJ_VIDEO, {"prompt": "a", "fileUrls": ["https://x/p.png"]}, "mj_video"),
    ],
)
def test_a_request_without_task_type_gets_the_mode_it_means(
    model: Model, inputs: dict, expected: str
) -> None:
    assert task_type_for(model, inputs) == expected
    assert ADAPTER.create_body(model, inputs, "https://cb")["taskType"] == expected
    # A chosen taskType (the catalog's system default, or the video quality) is never overridden.
    assert ADAPTER.create_body(model, {**inputs, "taskType": "mj_video_hd"}, "")["taskType"] == "mj_video_hd"


def test_status_request() -> None:
    assert ADAPTER.status_request(MJ_T2I, "t1") == ("GET", "/api/v1/mj/record-info", {"taskId": "t1"})


def test_documented_create_answer() -> None:
    assert ADAPTER.parse_create(load("midjourney_generate_response.json"), 200) == "mj_task_abcdef123456"


@pytest.mark.parametrize(
    ("code", "http_status", "kind"),
    [
        (400, 200, Kind.PERMANENT_USER),
        (401, 401, Kind.OPERATOR),
        (402, 200, Kind.OPERATOR),
        (404, 200, Kind.PERMANENT_USER),
        (422, 200, Kind.PERMANENT_USER),
        (429, 429, Kind.TRANSIENT),
        (455, 200, Kind.TRANSIENT),
        (500, 200, Kind.TRANSIENT),
        (501, 200, Kind.PERMANENT_USER),
        (505, 200, Kind.PERMANENT_USER),
    ],
)
def test_documented_create_error_codes(code: int, http_status: int, kind: Kind) -> None:
    # The generate page lists these body codes; its error bodies are the plain envelope.
    with pytest.raises(KieError) as caught:
        ADAPTER.parse_create({"code": code, "msg": "refused", "data": None}, http_status)
    assert (caught.value.code, caught.value.kind) == (code, kind)
    assert not isinstance(caught.value, KieParseError)


def test_an_ok_create_without_task_id_is_ambiguous() -> None:
    with pytest.raises(KieParseError) as caught:
        ADAPTER.parse_create({"code": 200, "msg": "success", "data": {}}, 200)
    assert caught.value.ambiguous


# --- status ---------------------------------------------------------------------------------------


def test_documented_record_info_gives_four_images() -> None:
    assert status(load("midjourney_record_info_success.json")) == TaskStatus(
        task_id=DOC_TASK, state=TaskState.SUCCEEDED, files=images(*DOC_URLS), stage="1"
    )


def test_quickstart_record_info_gives_four_images() -> None:
    found = status(load("midjourney_record_info_success_quickstart.json"))
    assert found.task_id == "mj_task_abcdef123456" and found.state is TaskState.SUCCEEDED
    assert [f.url for f in found.files] == [f"https://example.com/image{n}.jpg" for n in range(1, 5)]


def test_running() -> None:
    found = status(record(successFlag=0, resultInfoJson=None, completeTime=None))
    assert found == TaskStatus(task_id=DOC_TASK, state=TaskState.IN_PROGRESS, stage="0")


def test_running_never_reports_urls_it_may_carry() -> None:
    assert status(record(successFlag=0)).files == []


@pytest.mark.parametrize("flag", [2, 3, "3"])
def test_failed_flags_are_final(flag: int | str) -> None:
    found = status(
        record(successFlag=flag, resultInfoJson=None, errorCode=400, errorMessage="prompt violates policy")
    )
    assert found == TaskStatus(
        task_id=DOC_TASK,
        state=TaskState.FAILED,
        fail_code="400",
        fail_message="prompt violates policy",
        stage=str(flag),
    )


def test_failed_without_code_or_message_is_still_failed() -> None:
    found = status(record(successFlag=3, resultInfoJson=None))
    assert (found.state, found.fail_code, found.fail_message) == (TaskState.FAILED, None, None)


def test_flag_as_a_string() -> None:
    assert status(record(successFlag="1")).files == images(*DOC_URLS)


def test_result_urls_as_plain_strings_in_the_record() -> None:
    found = status(record(resultInfoJson={"resultUrls": DOC_URLS}))
    assert found.files == images(*DOC_URLS)


def test_result_info_sent_as_json_text() -> None:
    text = json.dumps({"resultUrls": [{"resultUrl": url} for url in DOC_URLS]})
    assert status(record(resultInfoJson=text)).files == images(*DOC_URLS)


def test_a_video_task_gives_videos() -> None:
    # The pages show image results only; a video task is read the same way, as the model's output.
    urls = ["https://r/0.mp4", "https://r/1.mp4"]
    body = record(taskType="mj_video", resultInfoJson={"resultUrls": [{"resultUrl": u} for u in urls]})
    assert status(body, MJ_VIDEO).files == [ResultFile(url=u, media_type=MediaType.VIDEO) for u in urls]


@pytest.mark.parametrize(
    "changes",
    [
        {"resultInfoJson": None},
        {"resultInfoJson": {"resultUrls": []}},
        {"resultInfoJson": {"resultUrls": [{"resultUrl": ""}]}},
    ],
)
def test_success_without_urls_is_not_a_success(changes: dict) -> None:
    with pytest.raises(KieParseError):
        status(record(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"successFlag": 7},
        {"successFlag": None},
        {"successFlag": "yes"},
        {"resultInfoJson": {"resultUrls": [{"url_of_result": "https://x"}]}},
        {"resultInfoJson": {"resultUrls": [5]}},
        {"resultInfoJson": {"resultUrls": {"resultUrl": "https://x"}}},
        {"resultInfoJson": "{not json"},
    ],
)
def test_unreadable_records(changes: dict) -> None:
    with pytest.raises(KieParseError):
        status(record(**changes))


def test_an_answer_about_another_task_is_rejected() -> None:
    with pytest.raises(KieParseError):
        status(load("midjourney_record_info_success.json"), task_id="other")
    # An answer naming no task is taken as the one asked about.
    body = record()
    del body["data"]["taskId"]
    assert status(body, task_id="asked").task_id == "asked"


@pytest.mark.parametrize(
    ("body", "http_status", "kind"),
    [
        ({"code": 404, "msg": "Task not found"}, 200, Kind.PERMANENT_USER),
        ({"code": 422, "msg": "recordInfo is null", "data": None}, 200, Kind.TRANSIENT),
        ({"code": 429, "msg": "Rate limit exceeded", "data": None}, 429, Kind.TRANSIENT),
        ({"code": 500, "msg": "Server error", "data": None}, 200, Kind.TRANSIENT),
    ],
)
def test_status_errors(body: dict, http_status: int, kind: Kind) -> None:
    with pytest.raises(KieError) as caught:
        ADAPTER.parse_status(body, http_status, MJ_T2I, task_id="t")
    assert caught.value.kind is kind


# --- callbacks ------------------------------------------------------------------------------------


def test_documented_success_callback() -> None:
    body = load("midjourney_callback_success.json")
    assert extract_task_id(body) == "mj_task_12345"  # the webhook server finds it at data.taskId
    assert parse_callback(body, MJ_T2I) == CallbackInfo(
        task_id="mj_task_12345",
        status=TaskStatus(task_id="mj_task_12345", state=TaskState.SUCCEEDED, files=images(*CALLBACK_URLS)),
    )


def test_documented_failure_callback() -> None:
    body = load("midjourney_callback_fail.json")
    assert extract_task_id(body) == "mj_task_12345"
    info = parse_callback(body, MJ_T2I)
    assert info.status == TaskStatus(
        task_id="mj_task_12345",
        state=TaskState.FAILED,
        fail_code="500",
        fail_message="Image generation failed",
    )


def test_callback_with_result_objects_or_a_result_info() -> None:
    body = load("midjourney_callback_success.json")
    body["data"]["resultUrls"] = [{"resultUrl": url} for url in CALLBACK_URLS]
    assert parse_callback(body, MJ_T2I).status.files == images(*CALLBACK_URLS)
    del body["data"]["resultUrls"]
    body["data"]["resultInfoJson"] = {"resultUrls": [{"resultUrl": url} for url in CALLBACK_URLS]}
    assert parse_callback(body, MJ_T2I).status.files == images(*CALLBACK_URLS)


def test_a_video_callback() -> None:
    body = load("midjourney_callback_success.json")
    body["data"]["resultUrls"] = ["https://r/v.mp4"]
    assert parse_callback(body, MJ_VIDEO).status.files == [
        ResultFile(url="https://r/v.mp4", media_type=MediaType.VIDEO)
    ]


@pytest.mark.parametrize("urls", [[], None, [7], "[{"])
def test_an_ok_callback_without_readable_urls_is_a_nudge(urls: Any) -> None:
    body = load("midjourney_callback_success.json")
    body["data"]["resultUrls"] = urls
    assert parse_callback(body, MJ_T2I) == CallbackInfo(task_id="mj_task_12345", status=None)


def test_a_failure_callback_tells_the_user_why() -> None:
    body = load("midjourney_callback_fail.json")
    body["data"].update(errorCode=400, errorMessage="Your prompt was flagged as violating content policies")
    found = parse_callback(body, MJ_T2I).status
    assert found is not None and found.fail_code == "400"
    assert KieError(found.fail_message or "", code=400).user_reason is UserReason.CONTENT_POLICY


def test_a_callback_without_task_id_is_refused() -> None:
    body = load("midjourney_callback_success.json")
    del body["data"]["taskId"]
    assert extract_task_id(body) is None
    with pytest.raises(KieParseError):
        parse_callback(body, MJ_T2I)


# --- garbage --------------------------------------------------------------------------------------

GARBAGE: list[Any] = [
    None,
    "",
    "x",
    3,
    [],
    {},
    {"code": {}},
    {"code": 200, "data": "x"},
    {"code": 200, "data": {"taskId": "t", "successFlag": {}}},
    {"code": 200, "data": {"taskId": "t", "successFlag": 1, "resultInfoJson": 7, "resultUrls": {}}},
    {"code": 200, "data": {"taskId": "t", "successFlag": 1, "resultInfoJson": {"resultUrls": "["}}},
    {"code": 200, "data": {"taskId": "t", "successFlag": 1, "resultInfoJson": {"resultUrls": [[{}]]}}},
    {"code": 200, "data": {"taskId": "t", "successFlag": 1, "resultUrls": [None, {"resultUrl": 5}]}},
    {"code": 500, "data": {"taskId": ["t"], "errorCode": {}, "errorMessage": []}},
    {"code": 500, "taskId": "a", "data": {"taskId": "b"}},
]


@pytest.mark.parametrize("model", [MJ_T2I, MJ_VIDEO], ids=["image", "video"])
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_never_escapes_as_anything_but_kie_errors(model: Model, body: Any) -> None:
    for http_status in (200, 500):
        with contextlib.suppress(KieError):
            ADAPTER.parse_status(body, http_status, model)
        with contextlib.suppress(KieError):
            ADAPTER.parse_status(body, http_status, model, task_id="t")
        with contextlib.suppress(KieError):
            ADAPTER.parse_create(body, http_status)
        with contextlib.suppress(KieError):
            ADAPTER.parse_callback(body, model)


def test_result_urls_reader() -> None:
    assert result_urls([{"resultUrl": " https://a "}, "https://b", {"url": "https://c"}], what="t") == [
        "https://a",
        "https://b",
        "https://c",
    ]
    assert result_urls('["https://a"]', what="t") == ["https://a"]
    assert result_urls(None, what="t") == []
    for bad in ({"resultUrl": "x"}, [{}], [3], 4.5):
        with pytest.raises(KieParseError):
            result_urls(bad, what="t")
