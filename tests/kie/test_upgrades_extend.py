"""Runway extend (a new task, read like any Runway task) and Suno extend (a track look-up on the earlier task
before the create) and upload-extend."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kie.adapters import adapter_for
from kie.adapters.suno import track_reference
from kie.errors import KieError, Kind, UserReason
from kie.models import TaskState
from tests.kie.support import RUNWAY, SUNO, load
from tests.kie.upgrades import RUNWAY_EXTEND, SUNO_ADAPTER, SUNO_EXTEND, SUNO_UPLOAD_EXTEND

# --- Runway extend: a new task, read like any Runway task -----------------------------------------


def test_runway_extend_is_a_runway_task() -> None:
    adapter = adapter_for("runway")
    documented = load("runway_extend_request.json")
    inputs = {key: value for key, value in documented.items() if key != "callBackUrl"}
    assert adapter.create_request(RUNWAY_EXTEND, inputs, documented["callBackUrl"]) == (
        "POST",
        "/api/v1/runway/extend",
        documented,
    )
    assert adapter.parse_create(load("runway_extend_response.json"), 200) == documented["taskId"]
    assert adapter.status_request(RUNWAY_EXTEND, "r1") == (
        "GET",
        "/api/v1/runway/record-detail",
        {"taskId": "r1"},
    )
    record, callback = load("runway_record_detail_success.json"), load("runway_callback_success.json")
    extended = adapter.parse_status(record, 200, RUNWAY_EXTEND)
    assert extended == adapter.parse_status(record, 200, RUNWAY) and extended.state is TaskState.SUCCEEDED
    assert adapter.parse_callback(callback, RUNWAY_EXTEND) == adapter.parse_callback(callback, RUNWAY)


# --- Suno extend: audioId from the earlier task ---------------------------------------------------

SUNO_PARENT = "5c79****be8e"


@pytest.mark.parametrize(
    ("value", "reference"),
    [
        (SUNO_PARENT, (SUNO_PARENT, 0)),
        (f"{SUNO_PARENT}:1", (SUNO_PARENT, 1)),
        ("e231****-****-****-****-****8cadc7dc", None),  # the docs' (masked) audio id
        ("0f8fad5b-d9cb-469f-a165-70867728950e", None),
        ("", None),
        (None, None),
    ],
)
def test_track_reference(value: Any, reference: tuple[str, int] | None) -> None:
    assert track_reference(value) == reference


def test_suno_extend_with_an_audio_id_needs_no_look_up() -> None:
    documented = load("suno_extend_request.json")
    inputs = {key: value for key, value in documented.items() if key != "callBackUrl"}
    assert SUNO_ADAPTER.lookup_request(SUNO_EXTEND, inputs) is None
    assert SUNO_ADAPTER.create_request(SUNO_EXTEND, inputs, documented["callBackUrl"]) == (
        "POST",
        "/api/v1/generate/extend",
        documented,
    )


def test_suno_extend_looks_the_track_up_on_the_earlier_task() -> None:
    inputs = {"audioId": SUNO_PARENT, "defaultParamFlag": False}
    assert SUNO_ADAPTER.lookup_request(SUNO_EXTEND, inputs) == (
        "GET",
        "/api/v1/generate/record-info",
        {"taskId": SUNO_PARENT},
    )
    assert SUNO_ADAPTER.lookup_request(SUNO, {"audioId": SUNO_PARENT}) is None  # only extend looks up
    resolved = SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, inputs, load("suno_record_info_success.json"), 200)
    # The documented record's model (V3_5) is not one extend takes: none is filled in.
    assert resolved == {"audioId": "e231****-****-****-****-****8cadc7dc", "defaultParamFlag": False}
    assert inputs == {"audioId": SUNO_PARENT, "defaultParamFlag": False}  # not mutated


def suno_record(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(load("suno_record_info_success.json"))
    body["data"].update(changes)
    return body


def test_suno_extend_takes_the_source_model() -> None:
    record = suno_record(param='{"prompt":"p","model":"V4_5PLUS"}')
    resolved = SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, {"audioId": SUNO_PARENT}, record, 200)
    assert resolved["model"] == "V4_5PLUS"
    # Without a model in param, the track's modelName says it; a model the inputs name wins.
    record = suno_record(param="{")
    record["data"]["response"]["sunoData"][0]["modelName"] = "chirp-v4-5all"
    assert (
        SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, {"audioId": SUNO_PARENT}, record, 200)["model"] == "V4_5ALL"
    )
    chosen = SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, {"audioId": SUNO_PARENT, "model": "V5"}, record, 200)
    assert chosen["model"] == "V5"


def test_suno_extend_picks_the_take() -> None:
    record = suno_record()
    second = {**record["data"]["response"]["sunoData"][0], "id": "0f8fad5b-d9cb-469f-a165-70867728950e"}
    record["data"]["response"]["sunoData"].append(second)
    resolved = SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, {"audioId": f"{SUNO_PARENT}:1"}, record, 200)
    assert resolved["audioId"] == "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        (suno_record(status="FIRST_SUCCESS"), Kind.PERMANENT_USER, UserReason.NOT_FOUND),
        (suno_record(status="GENERATE_AUDIO_FAILED"), Kind.PERMANENT_USER, UserReason.NOT_FOUND),
        (suno_record(response={"sunoData": []}), Kind.PERMANENT_USER, UserReason.NOT_FOUND),
        (load("market_recordInfo_error_422_recordInfo_null.json"), Kind.TRANSIENT, None),
        (load("market_recordInfo_error_404.json"), Kind.PERMANENT_USER, UserReason.NOT_FOUND),
        (suno_record(taskId="another"), Kind.TRANSIENT, None),  # an answer about another task
    ],
)
def test_suno_extend_look_up_refusals(body: Any, kind: Kind, reason: UserReason | None) -> None:
    with pytest.raises(KieError) as caught:
        SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, {"audioId": SUNO_PARENT}, body, 200)
    assert caught.value.kind is kind and not caught.value.ambiguous
    if reason is not None:
        assert caught.value.user_reason is reason


def test_suno_extend_look_up_garbage_is_a_kie_error() -> None:
    for body in (None, "x", {"code": 200, "data": "x"}, {"code": 200, "data": {"status": "SUCCESS"}}):
        with pytest.raises(KieError):
            SUNO_ADAPTER.resolve_inputs(SUNO_EXTEND, {"audioId": SUNO_PARENT}, body, 200)


def test_suno_extend_and_upload_extend_are_read_like_suno() -> None:
    info = SUNO_ADAPTER.parse_callback(load("suno_extend_callback_complete.json"), SUNO_EXTEND)
    assert info.callback_type == "complete" and info.status.state is TaskState.SUCCEEDED
    assert info.status.files[0].url == "https://example.cn/****.mp3"
    documented = load("suno_upload_extend_request.json")
    inputs = {key: value for key, value in documented.items() if key != "callBackUrl"}
    assert SUNO_ADAPTER.lookup_request(SUNO_UPLOAD_EXTEND, inputs) is None
    assert SUNO_ADAPTER.create_request(SUNO_UPLOAD_EXTEND, inputs, documented["callBackUrl"]) == (
        "POST",
        "/api/v1/generate/upload-extend",
        documented,
    )
    # The catalog id is a label, never a `model` value; the inputs' model is sent.
    assert SUNO_ADAPTER.create_request(SUNO_UPLOAD_EXTEND, {"model": "V5"}, "https://cb")[2]["model"] == "V5"
