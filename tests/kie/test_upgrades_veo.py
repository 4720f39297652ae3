"""Veo 1080P and 4K: answers that carry the video itself, read through a derived task id; their refusals,
statuses and callbacks, and garbage, which may only ever raise ``KieError``."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest

from kie.adapters.veo import split_upgrade_id, upgrade_task_id
from kie.errors import KieError, KieParseError, Kind
from kie.models import CallbackInfo, TaskState, TaskStatus
from tests.kie.support import Model, load
from tests.kie.upgrades import PARENT, PROCESSING_1080P, VEO, VEO_4K, VEO_1080P, refusal, video

# --- derived task ids ----------------------------------------------------------------------------


def test_derived_ids_round_trip() -> None:
    assert upgrade_task_id(PARENT, "4k") == f"{PARENT}@4k"
    assert upgrade_task_id(PARENT, "1080p", 0) == f"{PARENT}@1080p"
    assert upgrade_task_id(PARENT, "1080p", 2) == f"{PARENT}@1080p:2"
    assert split_upgrade_id(f"{PARENT}@1080p:2") == (PARENT, "1080p", 2)
    assert split_upgrade_id(f"{PARENT}@4k") == (PARENT, "4k", None)
    assert split_upgrade_id(PARENT) == (PARENT, None, None)


# --- Veo 1080P: GET, answers the URL -------------------------------------------------------------


def test_1080p_create_is_the_documented_get_without_a_callback() -> None:
    assert VEO.create_request(VEO_1080P, {"taskId": PARENT}, "https://cb") == (
        "GET",
        "/api/v1/veo/get-1080p-video",
        {"taskId": PARENT},
    )
    assert VEO.create_request(VEO_1080P, {"taskId": PARENT, "index": 1}, "https://cb")[2] == {
        "taskId": PARENT,
        "index": 1,
    }
    # A 1080P generation's own id leads back to the Veo task it upgraded.
    assert VEO.create_request(VEO_1080P, {"taskId": f"{PARENT}@4k"}, "")[2] == {"taskId": PARENT}
    with pytest.raises(ValueError, match="taskId"):
        VEO.create_request(VEO_1080P, {}, "https://cb")


@pytest.mark.parametrize(
    ("body", "inputs", "derived"),
    [
        (load("veo_1080p_success.json"), {"taskId": PARENT}, f"{PARENT}@1080p"),
        (PROCESSING_1080P, {"taskId": PARENT}, f"{PARENT}@1080p"),
        (PROCESSING_1080P, {"taskId": PARENT, "index": "1"}, f"{PARENT}@1080p:1"),
    ],
)
def test_1080p_create_accepts_ready_and_processing(body: Any, inputs: dict[str, Any], derived: str) -> None:
    assert VEO.parse_create(body, 200, model=VEO_1080P, inputs=inputs) == derived


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        ("record status is not success.", Kind.PERMANENT_USER),
        ("Temporarily supports records within 14 days.", Kind.PERMANENT_USER),
        ("record is null.", Kind.PERMANENT_USER),
    ],
)
def test_1080p_create_refusals_are_raised(msg: str, kind: Kind) -> None:
    with pytest.raises(KieError) as caught:
        VEO.parse_create(refusal(422, msg), 200, model=VEO_1080P, inputs={"taskId": PARENT})
    assert (caught.value.code, caught.value.kind, caught.value.ambiguous) == (422, kind, False)


def test_1080p_create_operator_and_transient_codes() -> None:
    with pytest.raises(KieError) as caught:
        VEO.parse_create(
            refusal(402, "Insufficient credits"), 200, model=VEO_1080P, inputs={"taskId": PARENT}
        )
    assert caught.value.operator
    with pytest.raises(KieError) as caught:
        VEO.parse_create(refusal(500, "Server error"), 500, model=VEO_1080P, inputs={"taskId": PARENT})
    assert caught.value.transient


def test_an_unreadable_ok_create_answer_is_ambiguous() -> None:
    with pytest.raises(KieParseError) as caught:
        VEO.parse_create("<html>", 200, model=VEO_1080P, inputs={"taskId": PARENT})
    assert caught.value.ambiguous


def test_1080p_status_reads_the_same_get() -> None:
    assert VEO.status_request(VEO_1080P, f"{PARENT}@1080p") == (
        "GET",
        "/api/v1/veo/get-1080p-video",
        {"taskId": PARENT},
    )
    assert VEO.status_request(VEO_1080P, f"{PARENT}@1080p:1")[2] == {"taskId": PARENT, "index": 1}
    assert VEO.status_request(VEO_1080P, PARENT)[2] == {"taskId": PARENT}  # a plain id is the parent


def status_1080p(body: Any, http_status: int = 200) -> TaskStatus:
    return VEO.parse_status(body, http_status, VEO_1080P, task_id=f"{PARENT}@1080p")


def test_1080p_status_shapes() -> None:
    url = "https://tempfile.aiquickdraw.com/p/42f4f8facbb040c0ade87c27cb2d5e58_1749711595.mp4"
    assert status_1080p(load("veo_1080p_success.json")) == TaskStatus(
        task_id=f"{PARENT}@1080p", state=TaskState.SUCCEEDED, files=[video(url)], stage="ready"
    )
    assert status_1080p(PROCESSING_1080P).state is TaskState.IN_PROGRESS
    assert status_1080p({**PROCESSING_1080P, "code": 422}).stage == "processing"
    # A 200 without the URL yet: not a failure, not a success.
    assert status_1080p({"code": 200, "msg": "success", "data": {}}).state is TaskState.IN_PROGRESS
    # The parent cannot be upgraded: final, so the user is refunded now rather than at the deadline.
    failed = status_1080p(refusal(422, "record result data is blank."))
    assert (failed.state, failed.fail_code, failed.fail_message) == (
        TaskState.FAILED,
        "422",
        "record result data is blank.",
    )
    assert status_1080p(refusal(501, "Generation failed")).state is TaskState.FAILED


@pytest.mark.parametrize(
    ("body", "http_status", "kind"),
    [
        (refusal(404, "Not found"), 200, Kind.PERMANENT_USER),  # not this account's task: ask another key
        (refusal(422, "record is null."), 200, Kind.PERMANENT_USER),
        ({"code": 429, "msg": "Rate limited"}, 429, Kind.TRANSIENT),
        (refusal(455, "Maintenance"), 200, Kind.TRANSIENT),
        (refusal(500, "Server error"), 200, Kind.TRANSIENT),
        (refusal(401, "You do not have access permissions"), 401, Kind.OPERATOR),
    ],
)
def test_1080p_status_errors_are_raised(body: Any, http_status: int, kind: Kind) -> None:
    with pytest.raises(KieError) as caught:
        status_1080p(body, http_status)
    assert caught.value.kind is kind


# --- Veo 4K: POST, its own answers and callbacks -------------------------------------------------


def test_4k_create_is_the_documented_post() -> None:
    documented = load("veo_4k_request.json")
    inputs = {"taskId": documented["taskId"], "index": documented["index"]}
    assert VEO.create_request(VEO_4K, inputs, documented["callBackUrl"]) == (
        "POST",
        "/api/v1/veo/get-4k-video",
        documented,
    )
    assert VEO.status_request(VEO_4K, f"{PARENT}@4k") == (
        "POST",
        "/api/v1/veo/get-4k-video",
        {"taskId": PARENT},  # asking again sends no callBackUrl
    )


@pytest.mark.parametrize(
    "name", ["veo_4k_response.json", "veo_4k_error_422_processing.json", "veo_4k_error_422_generated.json"]
)
def test_4k_create_accepts_every_documented_answer(name: str) -> None:
    assert VEO.parse_create(load(name), 200, model=VEO_4K, inputs={"taskId": PARENT}) == f"{PARENT}@4k"
    # The HTTP status may mirror the body's 422: still accepted.
    assert VEO.parse_create(load(name), load(name)["code"], model=VEO_4K, inputs={"taskId": PARENT})


def test_4k_status_shapes() -> None:
    derived = f"{PARENT}@4k"
    running = VEO.parse_status(load("veo_4k_response.json"), 200, VEO_4K, task_id=derived)
    assert (running.task_id, running.state, running.stage) == (derived, TaskState.IN_PROGRESS, "processing")
    processing = load("veo_4k_error_422_processing.json")
    assert VEO.parse_status(processing, 200, VEO_4K, task_id=derived).state is TaskState.IN_PROGRESS
    generated = VEO.parse_status(load("veo_4k_error_422_generated.json"), 422, VEO_4K, task_id=derived)
    assert generated == TaskStatus(
        task_id=derived,
        state=TaskState.SUCCEEDED,
        files=[video("https://tempfile.aiquickdraw.com/v/example_task_1234567890.mp4")],  # not imageUrls
        stage="already generated",
    )
    # Without the id we asked about, the answer's own id names the task.
    assert VEO.parse_status(processing, 200, VEO_4K).task_id == "veo_task_example123"
    with pytest.raises(KieParseError):
        VEO.parse_status({"code": 422, "msg": "4k is processing", "data": None}, 200, VEO_4K)


def test_4k_success_under_200_with_urls() -> None:
    body = copy.deepcopy(load("veo_4k_response.json"))
    body["data"]["resultUrls"] = ["https://file.aiquickdraw.com/v/example.mp4"]
    status = VEO.parse_status(body, 200, VEO_4K, task_id=f"{PARENT}@4k")
    assert (status.state, status.stage, len(status.files)) == (TaskState.SUCCEEDED, "ready", 1)


@pytest.mark.parametrize(
    ("name", "task_id", "url"),
    [
        (
            "veo_4k_callback_success.json",
            "veo_task_example123",
            "https://file.aiquickdraw.com/v/example_task_1234567890.mp4",
        ),
        (
            "veo_4k_callback_success_openapi.json",
            "bf3e7adb-fb6c-4257-bbcd-470787386fb0",
            "https://file.aiquickdraw.com/p/d1301f0aa3f647c1ab7bb1f60ef006c0_1750236843.mp4",
        ),
    ],
)
def test_4k_callbacks_in_both_documented_shapes(name: str, task_id: str, url: str) -> None:
    assert VEO.parse_callback(load(name), VEO_4K) == CallbackInfo(
        task_id=task_id,
        status=TaskStatus(task_id=task_id, state=TaskState.SUCCEEDED, files=[video(url)]),
    )


def test_4k_failure_callback() -> None:
    info = VEO.parse_callback(load("veo_4k_callback_fail.json"), VEO_4K)
    assert info.status == TaskStatus(
        task_id=PARENT,
        state=TaskState.FAILED,
        fail_code="500",
        fail_message="The 4K version of this video is unavailable. Please try a different video.",
    )


def test_4k_refused_for_good_is_a_failed_task() -> None:
    status = VEO.parse_status(
        refusal(422, "record status is not success."), 200, VEO_4K, task_id=f"{PARENT}@4k"
    )
    assert status.state is TaskState.FAILED and status.fail_code == "422"


UPGRADE_BODIES: list[Any] = [
    None,
    "x",
    [],
    {},
    {"code": "x"},
    {"code": 200, "data": "x"},
    {"code": 200, "data": {"resultUrl": 5}},
    {"code": 200, "data": {"resultUrls": "[1]"}},
    {"code": 422, "msg": None, "data": {"resultUrls": {"a": 1}, "info": []}},
    {"code": 422, "msg": 7, "data": {"taskId": ["t"]}},
    {"code": 200, "data": {"taskId": {}, "task_id": "t", "info": {"result_urls": [None]}}},
    {"code": 501, "taskId": 5},
]


@pytest.mark.parametrize("model", [VEO_1080P, VEO_4K], ids=lambda m: m.id)
def test_garbage_never_escapes_an_upgrade_as_anything_but_kie_errors(model: Model) -> None:
    for body in UPGRADE_BODIES:
        for http_status in (200, 422, 500):
            for parse in (
                lambda b, s: VEO.parse_status(b, s, model),
                lambda b, s: VEO.parse_status(b, s, model, task_id="t@4k"),
                lambda b, s: VEO.parse_create(b, s, model=model, inputs={"taskId": "t"}),
                lambda b, s: VEO.parse_create(b, s, model=model, inputs={}),
                lambda b, _s: VEO.parse_callback(b, model),
            ):
                with contextlib.suppress(KieError):
                    parse(body, http_status)
