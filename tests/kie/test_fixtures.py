"""Every documented example, read by the right adapter into an exact normalized result."""

from __future__ import annotations

from typing import Any

import pytest

from kie.adapters import adapter_for
from kie.errors import KieError, Kind, UserReason, user_reason
from kie.models import CallbackInfo, MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.support import (
    FIXTURES,
    FLUX,
    GPT4O,
    GROK_IMAGE,
    HAILUO,
    KLING_T2V,
    NANO_BANANA,
    NANO_BANANA_PRO,
    RUNWAY,
    SUNO,
    VEO,
    Model,
    load,
)


def image(url: str) -> ResultFile:
    return ResultFile(url=url, media_type=MediaType.IMAGE)


def video(url: str) -> ResultFile:
    return ResultFile(url=url, media_type=MediaType.VIDEO)


def succeeded(task_id: str, *files: ResultFile, stage: str | None = None, **extra: Any) -> TaskStatus:
    return TaskStatus(task_id=task_id, state=TaskState.SUCCEEDED, files=list(files), stage=stage, **extra)


STATUS_CASES = [
    (
        "market_recordInfo_success_openapi.json",
        GROK_IMAGE,
        succeeded("task_12345678", image("https://example.com/generated-content.jpg"), stage="success"),
    ),
    (
        "market_recordInfo_fail.json",
        GROK_IMAGE,
        TaskStatus(
            task_id="task_12345678",
            state=TaskState.FAILED,
            fail_code="422",
            fail_message="Invalid prompt: prompt contains prohibited content",
            stage="fail",
        ),
    ),
    (
        # The example carries a resultJson while still waiting: not a deliverable result.
        "market_recordInfo_waiting.json",
        HAILUO,
        TaskStatus(task_id="281e5b0*********************f39b9", state=TaskState.IN_PROGRESS, stage="waiting"),
    ),
    (
        "veo_record_info_success.json",
        VEO,
        succeeded("veo_task_abcdef123456", video("http://example.com/video1.mp4"), stage="1"),
    ),
    (
        "runway_record_detail_success.json",
        RUNWAY,
        succeeded(
            "ee603959-debb-48d1-98c4-a6d1c717eba6", video("https://file.com/k/xxxxxxx.mp4"), stage="success"
        ),
    ),
    (
        "suno_record_info_success.json",
        SUNO,
        succeeded(
            "5c79****be8e",
            ResultFile(url="https://example.cn/****.mp3", media_type=MediaType.AUDIO, title="钢铁侠"),
            stage="SUCCESS",
        ),
    ),
    (
        "gpt4o_record_info_success_openapi.json",
        GPT4O,
        succeeded("task12345", image("https://example.com/result/image1.png"), stage="SUCCESS", progress=1.0),
    ),
    (
        "flux_kontext_record_info_success.json",
        FLUX,
        succeeded("task12345", image("https://example.com/result.jpg"), stage="1"),
    ),
]


@pytest.mark.parametrize(("name", "model", "expected"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES])
def test_status_examples(name: str, model: Model, expected: TaskStatus) -> None:
    assert adapter_for(model.api).parse_status(load(name), 200, model) == expected


_IRON_MAN = ResultFile(url="https://example.cn/****.mp3", media_type=MediaType.AUDIO, title="Iron Man")

CALLBACK_CASES = [
    (
        "market_callback_success.json",
        NANO_BANANA,
        CallbackInfo(
            task_id="e989621f54392584b05867f87b160672",
            status=succeeded(
                "e989621f54392584b05867f87b160672",
                image("https://example.com/generated-image.jpg"),
                stage="success",
            ),
        ),
    ),
    (
        # Envelope code 501, data.state "fail", failCode a string: the task's own code wins.
        "market_callback_fail.json",
        NANO_BANANA,
        CallbackInfo(
            task_id="bd3a37c523149e4adf45a3ddb5faf1a8",
            status=TaskStatus(
                task_id="bd3a37c523149e4adf45a3ddb5faf1a8",
                state=TaskState.FAILED,
                fail_code="500",
                fail_message="Internal server error",
                stage="fail",
            ),
        ),
    ),
    (
        "veo_callback_success.json",
        VEO,
        CallbackInfo(
            task_id="veo_task_abcdef123456",
            status=succeeded("veo_task_abcdef123456", video("http://example.com/video1.mp4")),
        ),
    ),
    (
        "veo_callback_fail.json",
        VEO,
        CallbackInfo(
            task_id="veo_task_abcdef123456",
            status=TaskStatus(
                task_id="veo_task_abcdef123456",
                state=TaskState.FAILED,
                fail_code="400",
                fail_message="Your prompt was flagged by Website as violating content policies.",
            ),
        ),
    ),
    (
        "runway_callback_success.json",
        RUNWAY,
        CallbackInfo(
            task_id="ee603959-debb-48d1-98c4-a6d1c717eba6",
            status=succeeded("ee603959-debb-48d1-98c4-a6d1c717eba6", video("https://file.com/k/xxxxxxx.mp4")),
        ),
    ),
    (
        "suno_callback_complete.json",
        SUNO,
        CallbackInfo(
            task_id="2fac****9f72",
            status=succeeded("2fac****9f72", _IRON_MAN, _IRON_MAN, stage="complete"),
            callback_type="complete",
        ),
    ),
    (
        "gpt4o_callback_success.json",
        GPT4O,
        CallbackInfo(
            task_id="task12345", status=succeeded("task12345", image("https://example.com/result/image1.png"))
        ),
    ),
    (
        "flux_kontext_callback_success.json",
        FLUX,
        CallbackInfo(
            task_id="task12345", status=succeeded("task12345", image("https://example.com/result.jpg"))
        ),
    ),
]


@pytest.mark.parametrize(("name", "model", "expected"), CALLBACK_CASES, ids=[c[0] for c in CALLBACK_CASES])
def test_callback_examples(name: str, model: Model, expected: CallbackInfo) -> None:
    assert adapter_for(model.api).parse_callback(load(name), model) == expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("market_recordInfo_fail.json", UserReason.CONTENT_POLICY),
        ("veo_callback_fail.json", UserReason.CONTENT_POLICY),
        ("market_callback_fail.json", UserReason.TEMPORARILY_UNAVAILABLE),
    ],
)
def test_failed_examples_tell_the_user_why(name: str, reason: UserReason) -> None:
    data = load(name)["data"]
    code = data.get("failCode") or load(name)["code"]
    message = data.get("failMsg") or load(name)["msg"]
    assert user_reason(code, message) is reason


@pytest.mark.parametrize(
    ("name", "api", "task_id"),
    [
        ("market_createTask_response.json", "market", "task_nano-banana-pro_1765178625768"),
        ("veo_generate_response.json", "veo", "veo_task_abcdef123456"),
    ],
)
def test_create_answer_examples(name: str, api: str, task_id: str) -> None:
    assert adapter_for(api).parse_create(load(name), 200) == task_id


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("market_createTask_request_nano_banana_openapi.json", NANO_BANANA),
        ("market_createTask_request_nano_banana_pro_openapi.json", NANO_BANANA_PRO),
        ("market_createTask_request_kling_2_6_text_to_video.json", KLING_T2V),
    ],
)
def test_market_create_requests_match_the_examples(name: str, model: Model) -> None:
    example = load(name)
    request = adapter_for("market").create_request(model, example["input"], example["callBackUrl"])
    assert request == ("POST", "/api/v1/jobs/createTask", example)


@pytest.mark.parametrize(
    ("name", "model", "path"),
    [
        ("veo_generate_request.json", VEO, "/api/v1/veo/generate"),
        ("runway_generate_request.json", RUNWAY, "/api/v1/runway/generate"),
        ("suno_generate_request.json", SUNO, "/api/v1/generate"),
        ("gpt4o_generate_request.json", GPT4O, "/api/v1/gpt4o-image/generate"),
        # This example has no callBackUrl: polling-only requests leave it out.
        ("flux_kontext_generate_request.json", FLUX, "/api/v1/flux/kontext/generate"),
    ],
)
def test_special_create_requests_match_the_examples(name: str, model: Model, path: str) -> None:
    example = load(name)
    inputs = {key: value for key, value in example.items() if key != "callBackUrl"}
    request = adapter_for(model.api).create_request(model, inputs, example.get("callBackUrl", ""))
    assert request == ("POST", path, example)


@pytest.mark.parametrize(
    ("name", "code", "kind", "reason"),
    [
        ("market_recordInfo_error_404.json", 404, Kind.PERMANENT_USER, UserReason.NOT_FOUND),
        # Not visible yet: ask again later rather than fail the generation.
        (
            "market_recordInfo_error_422_recordInfo_null.json",
            422,
            Kind.TRANSIENT,
            UserReason.TEMPORARILY_UNAVAILABLE,
        ),
        ("market_recordInfo_error_429.json", 429, Kind.TRANSIENT, UserReason.TEMPORARILY_UNAVAILABLE),
        ("error_401_missing_headers.json", 401, Kind.OPERATOR, UserReason.TEMPORARILY_UNAVAILABLE),
    ],
)
def test_status_error_examples(name: str, code: int, kind: Kind, reason: UserReason) -> None:
    with pytest.raises(KieError) as caught:
        adapter_for("market").parse_status(load(name), 200, NANO_BANANA, task_id="t1")
    assert (caught.value.code, caught.value.kind, caught.value.user_reason) == (code, kind, reason)


def test_every_fixture_is_exercised() -> None:
    """Each copied documentation example is named by at least one test of this package."""
    sources = "".join(path.read_text(encoding="utf-8") for path in FIXTURES.parent.glob("test_*.py"))
    unused = sorted(path.name for path in FIXTURES.iterdir() if path.name not in sources)
    assert unused == []
