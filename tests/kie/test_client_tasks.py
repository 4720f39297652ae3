"""KieClient over real HTTP: creating a task and reading its status, and the follow-ups on a delivered result
(Veo 1080P and 4K, Suno extend)."""

from __future__ import annotations

import pytest

from kie.client import KieClient
from kie.errors import KieError, KieParseError, Kind
from kie.models import MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.stub_server import API_KEY, Reply, Stub
from tests.kie.support import GROK_IMAGE, NANO_BANANA_PRO, VEO, load
from tests.kie.upgrades import SUNO_EXTEND, VEO_4K, VEO_1080P

# --- tasks ---------------------------------------------------------------------------------------


async def test_create_task_sends_the_documented_request(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/api/v1/jobs/createTask", Reply(body=load("market_createTask_response.json")))
    example = load("market_createTask_request_nano_banana_pro_openapi.json")

    task_id = await client.create_task(NANO_BANANA_PRO, example["input"], example["callBackUrl"])

    assert task_id == "task_nano-banana-pro_1765178625768"
    (seen,) = stub.seen
    assert seen.json == example
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["Content-Type"] == "application/json"


async def test_get_status(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(body=load("market_recordInfo_success_openapi.json")))

    result = await client.get_status(GROK_IMAGE, "task_12345678")

    assert result == TaskStatus(
        task_id="task_12345678",
        state=TaskState.SUCCEEDED,
        files=[ResultFile(url="https://example.com/generated-content.jpg", media_type=MediaType.IMAGE)],
        stage="success",
    )
    assert (stub.seen[0].method, stub.seen[0].query) == ("GET", {"taskId": "task_12345678"})


async def test_get_status_of_a_special_api(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/veo/record-info", Reply(body=load("veo_record_info_success.json")))
    result = await client.get_status(VEO, "veo_task_abcdef123456")
    assert [f.url for f in result.files] == ["http://example.com/video1.mp4"]


async def test_status_not_visible_yet_is_transient(stub: Stub, client: KieClient) -> None:
    body = load("market_recordInfo_error_422_recordInfo_null.json")
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(status=422, body=body))
    with pytest.raises(KieError) as caught:
        await client.get_status(GROK_IMAGE, "t1")
    assert (caught.value.code, caught.value.http_status, caught.value.kind) == (422, 422, Kind.TRANSIENT)


async def test_status_answer_that_is_not_json(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(raw="<html>ok?</html>"))
    with pytest.raises(KieParseError) as caught:
        await client.get_status(GROK_IMAGE, "t1")
    assert caught.value.transient


async def test_create_answer_without_task_id_is_ambiguous(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/api/v1/jobs/createTask", Reply(body={"code": 200, "msg": "success", "data": None}))
    with pytest.raises(KieParseError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert caught.value.ambiguous


# --- follow-ups on a delivered result ----------------------------------------------------------------


async def test_veo_1080p_is_a_get_and_its_status_the_same_get(stub: Stub, client: KieClient) -> None:
    processing = {"code": 400, "msg": "1080P is processing. It should be ready in 1-2 minutes.", "data": None}
    stub.on("GET", "/api/v1/veo/get-1080p-video", Reply(body=processing))
    task_id = await client.create_task(VEO_1080P, {"taskId": "veo_task_abcdef123456"}, "https://cb")
    assert task_id == "veo_task_abcdef123456@1080p"

    stub.on("GET", "/api/v1/veo/get-1080p-video", Reply(body=load("veo_1080p_success.json")))
    status = await client.get_status(VEO_1080P, task_id)
    assert status.state is TaskState.SUCCEEDED and status.task_id == task_id
    assert [(s.method, s.query, s.json) for s in stub.seen] == [
        ("GET", {"taskId": "veo_task_abcdef123456"}, None),
        ("GET", {"taskId": "veo_task_abcdef123456"}, None),
    ]


async def test_veo_4k_status_posts_again(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/api/v1/veo/get-4k-video", Reply(body=load("veo_4k_response.json")))
    task_id = await client.create_task(VEO_4K, {"taskId": "veo_task_abcdef123456", "index": 0}, "https://cb")
    assert task_id == "veo_task_abcdef123456@4k"
    stub.on(
        "POST", "/api/v1/veo/get-4k-video", Reply(status=422, body=load("veo_4k_error_422_generated.json"))
    )
    status = await client.get_status(VEO_4K, task_id)
    assert status.state is TaskState.SUCCEEDED and status.stage == "already generated"
    assert [s.json for s in stub.seen] == [
        {"taskId": "veo_task_abcdef123456", "index": 0, "callBackUrl": "https://cb"},
        {"taskId": "veo_task_abcdef123456"},
    ]


async def test_suno_extend_reads_the_earlier_task_then_creates(stub: Stub, client: KieClient) -> None:
    record = load("suno_record_info_success.json")
    stub.on("GET", "/api/v1/generate/record-info", Reply(body=record))
    stub.on(
        "POST",
        "/api/v1/generate/extend",
        Reply(body={"code": 200, "msg": "success", "data": {"taskId": "x1"}}),
    )
    inputs = {"audioId": "5c79****be8e", "defaultParamFlag": False, "model": "V4"}

    assert await client.create_task(SUNO_EXTEND, inputs, "https://cb") == "x1"

    look_up, create = stub.seen
    assert (look_up.method, look_up.path, look_up.query) == (
        "GET",
        "/api/v1/generate/record-info",
        {"taskId": "5c79****be8e"},
    )
    assert create.json == {
        "audioId": "e231****-****-****-****-****8cadc7dc",
        "defaultParamFlag": False,
        "model": "V4",
        "callBackUrl": "https://cb",
    }


async def test_a_failed_look_up_creates_nothing_and_is_not_ambiguous(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/generate/record-info", Reply(delay=5))  # times out after sending
    with pytest.raises(KieError) as caught:
        await client.create_task(SUNO_EXTEND, {"audioId": "5c79****be8e"}, "https://cb")
    assert caught.value.transient and not caught.value.ambiguous
    assert [s.path for s in stub.seen] == ["/api/v1/generate/record-info"]
