"""The variations KIE's documentation allows in the families that report a ``successFlag`` (Veo, Flux
Kontext, 4o Image), applied to their own examples."""

from __future__ import annotations

from typing import Any

import pytest

from kie.errors import KieParseError
from kie.models import ResultFile, TaskState, TaskStatus
from tests.kie.parsing import callback, status
from tests.kie.support import FLUX, GPT4O, VEO, load


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
