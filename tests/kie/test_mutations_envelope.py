"""The variations KIE's documentation allows in the envelope of its answers (codes, messages, where the task
id sits), applied to its own examples; and garbage, which may only ever raise ``KieError``."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest

from kie.adapters import adapter_for
from kie.callbacks import extract_task_id
from kie.errors import KieError, KieParseError, Kind, UserReason
from kie.models import TaskState
from tests.kie.parsing import callback, market_success, status
from tests.kie.support import ALEPH, FLUX, GPT4O, GROK_IMAGE, NANO_BANANA, RUNWAY, SUNO, VEO, Model, load

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
