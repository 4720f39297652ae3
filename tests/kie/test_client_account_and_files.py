"""KieClient over real HTTP: the account's credits, download URLs and uploads (base64, multipart, stream)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kie.client import KieClient
from kie.errors import KieError, KieParseError
from tests.kie.stub_server import API_KEY, Reply, Stub, make_client
from tests.kie.support import load


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
