"""KieClient over real HTTP, against a tiny aiohttp server that answers with KIE's documented bodies."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kie.client import KieClient, retry_after_seconds
from kie.errors import KieError, KieNetworkError, KieParseError, Kind
from kie.models import MediaType, ResultFile, TaskState, TaskStatus
from tests.kie.support import GROK_IMAGE, NANO_BANANA_PRO, VEO, load
from tests.kie.test_upgrades import SUNO_EXTEND, VEO_4K, VEO_1080P

API_KEY = "sk-test-0123456789abcdef"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    raw: str | None = None  # sent verbatim instead of JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Stub:
    """Answers each (method, path) with a canned reply and records what it was sent."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], Reply] = {}
        self.seen: list[Seen] = []
        self.url = ""

    def on(self, method: str, path: str, reply: Reply) -> None:
        self.replies[(method, path)] = reply

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers))
        if request.content_type == "multipart/form-data":
            for name, value in (await request.post()).items():
                seen.form[name] = (
                    value
                    if isinstance(value, str)
                    else (value.filename, value.content_type, value.file.read())
                )
        elif request.can_read_body:
            seen.json = await request.json()
        self.seen.append(seen)
        reply = self.replies.get((request.method, request.path), Reply(404, {"code": 404, "msg": "no route"}))
        await asyncio.sleep(reply.delay)
        text = reply.raw if reply.raw is not None else json.dumps(reply.body)
        content_type = "text/html" if reply.raw is not None else "application/json"
        return web.Response(status=reply.status, text=text, content_type=content_type, headers=reply.headers)


@pytest.fixture
async def stub() -> AsyncIterator[Stub]:
    stub = Stub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stub.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stub.url = f"http://127.0.0.1:{port}"
    yield stub
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def make_client(session: aiohttp.ClientSession, url: str, **options: Any) -> KieClient:
    # Uploads live on another host at KIE; a path prefix proves the client uses upload_base_url for them.
    return KieClient(
        session, base_url=url + "/", upload_base_url=url + "/uploads", api_key=API_KEY, timeout=2.0, **options
    )


@pytest.fixture
def client(stub: Stub, session: aiohttp.ClientSession) -> KieClient:
    return make_client(session, stub.url)


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


# --- account and files ---------------------------------------------------------------------------


async def test_get_credits(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/chat/credit", Reply(body=load("credits_response.json")))
    assert await client.get_credits() == 100
    assert stub.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("data", "credits"), [("2510330", 2510330), (12.7, 12), ("oops", None), (None, None)]
)
async def test_credit_shapes(stub: Stub, client: KieClient, data: Any, credits: int | None) -> None:
    stub.on("GET", "/api/v1/chat/credit", Reply(body={"code": 200, "msg": "success", "data": data}))
    if credits is None:
        with pytest.raises(KieParseError):
            await client.get_credits()
    else:
        assert await client.get_credits() == credits


async def test_download_url(stub: Stub, client: KieClient) -> None:
    link = "https://tempfile.redpandaai.co/x.png?sig=1"
    stub.on("POST", "/api/v1/common/download-url", Reply(body={"code": 200, "msg": "success", "data": link}))
    assert await client.download_url("https://kie/x.png") == link
    assert stub.seen[0].json == {"url": "https://kie/x.png"}


def _example_upload() -> tuple[bytes, dict[str, str]]:
    example = load("upload_base64_request.json")
    _, encoded = example["base64Data"].split(",", 1)
    return base64.b64decode(encoded), example


async def test_upload_base64_sends_the_documented_body(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/uploads/api/file-base64-upload", Reply(body=load("upload_base64_response.json")))
    data, example = _example_upload()

    url = await client.upload_base64(
        data, file_name="test-image.png", upload_path="images/base64", mime_type="image/png"
    )

    assert url == "https://tempfile.redpandaai.co/xxx/images/user-uploads/uploaded-image.png"
    assert stub.seen[0].json == example


async def test_upload_stream_sends_multipart(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/uploads/api/file-stream-upload", Reply(body=load("upload_response_quickstart.json")))

    url = await client.upload_stream(
        b"\xff\xd8jpeg", file_name="me.jpg", upload_path="images", mime_type="image/jpeg"
    )

    assert url == "https://kieai.redpandaai.co/download/file_abc123456"
    (seen,) = stub.seen
    assert seen.form == {
        "uploadPath": "images",
        "fileName": "me.jpg",
        "file": ("me.jpg", "image/jpeg", b"\xff\xd8jpeg"),
    }
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_upload_stream_from_an_async_iterator(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/uploads/api/file-stream-upload", Reply(body=load("upload_response_quickstart.json")))

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"ID3", b"-audio-", b"bytes"):
            yield part

    await client.upload_stream(chunks(), file_name="v.mp3", upload_path="audio", mime_type="audio/mpeg")
    assert stub.seen[0].form["file"] == ("v.mp3", "audio/mpeg", b"ID3-audio-bytes")


async def test_upload_picks_base64_for_small_files_and_stream_otherwise(
    stub: Stub, session: aiohttp.ClientSession
) -> None:
    stub.on("POST", "/uploads/api/file-base64-upload", Reply(body=load("upload_base64_response.json")))
    stub.on("POST", "/uploads/api/file-stream-upload", Reply(body=load("upload_response_quickstart.json")))
    client = make_client(session, stub.url, base64_limit=8)
    options = {"file_name": "f.png", "upload_path": "images", "mime_type": "image/png"}

    await client.upload(b"12345678", **options)
    await client.upload(b"123456789", **options)

    assert [seen.path for seen in stub.seen] == [
        "/uploads/api/file-base64-upload",
        "/uploads/api/file-stream-upload",
    ]


async def test_upload_answer_without_download_url(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/uploads/api/file-base64-upload", Reply(body={"success": True, "code": 200, "data": {}}))
    with pytest.raises(KieParseError, match="downloadUrl"):
        await client.upload_base64(b"x", file_name="f", upload_path="p", mime_type="image/png")


async def test_upload_reported_as_unsuccessful(stub: Stub, client: KieClient) -> None:
    stub.on("POST", "/uploads/api/file-base64-upload", Reply(body={"success": False, "msg": "Upload failed"}))
    with pytest.raises(KieError, match="Upload failed"):
        await client.upload_base64(b"x", file_name="f", upload_path="p", mime_type="image/png")


# --- failures ------------------------------------------------------------------------------------


async def test_http_401_with_the_documented_body_is_an_operator_problem(
    stub: Stub, client: KieClient
) -> None:
    stub.on("GET", "/api/v1/chat/credit", Reply(status=401, body=load("error_401_missing_headers.json")))
    with pytest.raises(KieError) as caught:
        await client.get_credits()
    assert (caught.value.kind, caught.value.code, caught.value.http_status) == (Kind.OPERATOR, 401, 401)
    assert caught.value.message == "You do not have access permissions"


@pytest.mark.parametrize("json_body", [True, False], ids=["json", "plain"])
async def test_http_429_carries_retry_after(stub: Stub, client: KieClient, json_body: bool) -> None:
    reply = Reply(status=429, headers={"Retry-After": "7"})
    if json_body:
        reply.body = load("market_recordInfo_error_429.json")
    else:
        reply.raw = "Too Many Requests"
    stub.on("POST", "/api/v1/jobs/createTask", reply)
    with pytest.raises(KieError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert (caught.value.code, caught.value.transient, caught.value.retry_after) == (429, True, 7.0)
    assert not caught.value.ambiguous


async def test_body_429_under_http_200_is_transient(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(body=load("market_recordInfo_error_429.json")))
    with pytest.raises(KieError) as caught:
        await client.get_status(GROK_IMAGE, "t1")
    assert (caught.value.code, caught.value.transient, caught.value.retry_after) == (429, True, None)


async def test_html_500_page_is_transient(stub: Stub, client: KieClient) -> None:
    page = "<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>"
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(status=500, raw=page))
    with pytest.raises(KieError) as caught:
        await client.get_status(GROK_IMAGE, "t1")
    assert (caught.value.code, caught.value.http_status, caught.value.kind) == (500, 500, Kind.TRANSIENT)
    assert "HTTP 500" in caught.value.message and "500 Internal Server Error" in caught.value.message


async def test_closed_connection_is_transient_and_ambiguous(session: aiohttp.ClientSession) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the whole request head arrived...
        writer.close()  # ...and the server vanished without answering

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = make_client(session, f"http://127.0.0.1:{port}")
        with pytest.raises(KieNetworkError) as caught:
            await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    finally:
        server.close()
        await server.wait_closed()
    assert (caught.value.kind, caught.value.code, caught.value.ambiguous) == (Kind.TRANSIENT, None, True)


async def test_refused_connection_is_transient_and_not_ambiguous(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(session, f"http://127.0.0.1:{port}")
    with pytest.raises(KieNetworkError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert (caught.value.transient, caught.value.ambiguous) == (True, False)


async def test_timeout_is_transient_and_ambiguous(stub: Stub, session: aiohttp.ClientSession) -> None:
    stub.on("POST", "/api/v1/jobs/createTask", Reply(body=load("market_createTask_response.json"), delay=0.3))
    client = KieClient(session, base_url=stub.url, upload_base_url=stub.url, api_key=API_KEY, timeout=0.1)
    with pytest.raises(KieNetworkError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert (caught.value.transient, caught.value.ambiguous) == (True, True)


async def test_the_key_is_never_shown(
    stub: Stub, client: KieClient, caplog: pytest.LogCaptureFixture
) -> None:
    stub.on("GET", "/api/v1/chat/credit", Reply(status=401, body=load("error_401_missing_headers.json")))
    with caplog.at_level(logging.DEBUG), pytest.raises(KieError) as caught:
        await client.get_credits()
    shown = " ".join([repr(client), str(caught.value), repr(caught.value), caplog.text])
    assert API_KEY not in shown


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_seconds(header, now=now) == seconds
