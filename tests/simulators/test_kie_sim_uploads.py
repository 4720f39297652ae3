"""The upload API (base64, stream, URL) and download links: what goes in comes back out, byte for byte."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.media import png

AUTH = {"Authorization": "Bearer test-key"}
UPLOAD_KEYS = {"fileName", "filePath", "downloadUrl", "fileSize", "mimeType", "uploadedAt"}

Json = dict[str, Any]


@pytest.fixture
async def sim() -> AsyncIterator[KieSimulator]:
    async with KieSimulator(KieSimConfig(latency=0.05, latency_jitter=0, seed=5)) as sim:
        yield sim


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def download(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as resp:
        return resp.status, resp.content_type, await resp.read()


async def post_json(http: aiohttp.ClientSession, url: str, body: Json) -> Json:
    async with http.post(url, json=body) as resp:
        assert resp.status == 200
        return await resp.json()


@pytest.mark.parametrize("as_data_url", [True, False], ids=["data-url", "raw-base64"])
async def test_base64_upload(sim: KieSimulator, http: aiohttp.ClientSession, as_data_url: bool) -> None:
    image = png(8, 8)
    encoded = base64.b64encode(image).decode()
    body = {
        "base64Data": f"data:image/png;base64,{encoded}" if as_data_url else encoded,
        "uploadPath": "images/base64",
        "fileName": "test-image.png",
    }
    answer = await post_json(http, sim.url + "/api/file-base64-upload", body)
    assert answer["success"] is True and answer["code"] == 200
    data = answer["data"]
    assert set(data) == UPLOAD_KEYS
    assert data["fileName"] == "test-image.png" and data["filePath"] == "images/base64/test-image.png"
    assert data["fileSize"] == len(image) and data["mimeType"] == "image/png"
    assert data["downloadUrl"].startswith(sim.url + "/uploads/")
    assert await download(data["downloadUrl"]) == (200, "image/png", image)


async def test_stream_upload(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    payload = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a "JPEG" of ~10 KB
    form = aiohttp.FormData()
    form.add_field("file", payload, filename="photo.jpg", content_type="image/jpeg")
    form.add_field("uploadPath", "images/user-uploads")
    async with http.post(sim.url + "/api/file-stream-upload", data=form) as resp:
        answer = await resp.json()
    data = answer["data"]
    assert answer["code"] == 200 and data["fileName"] == "photo.jpg" and data["fileSize"] == len(payload)
    assert data["mimeType"] == "image/jpeg"
    assert await download(data["downloadUrl"]) == (200, "image/jpeg", payload)


async def test_url_upload_copies_the_file(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    original = base64.b64encode(b"ID3" + b"\x00" * 64).decode()
    first = await post_json(
        http,
        sim.url + "/api/file-base64-upload",
        {"base64Data": f"data:audio/mpeg;base64,{original}", "uploadPath": "audio", "fileName": "a.mp3"},
    )
    copy = await post_json(
        http,
        sim.url + "/api/file-url-upload",
        {"fileUrl": first["data"]["downloadUrl"], "uploadPath": "copies"},
    )
    assert copy["code"] == 200 and copy["data"]["filePath"] == "copies/a.mp3"
    assert copy["data"]["downloadUrl"] != first["data"]["downloadUrl"]
    assert (await download(copy["data"]["downloadUrl"]))[2] == base64.b64decode(original)

    broken = await post_json(
        http,
        sim.url + "/api/file-url-upload",
        {"fileUrl": sim.url + "/uploads/nope/x.png", "uploadPath": "x"},
    )
    assert broken["code"] == 400


async def test_upload_errors(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    bad = await post_json(http, sim.url + "/api/file-base64-upload", {"base64Data": "%%%", "uploadPath": "x"})
    assert bad["code"] == 400
    no_path = await post_json(http, sim.url + "/api/file-base64-upload", {"base64Data": "AAAA"})
    assert no_path["code"] == 400
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.post(sim.url + "/api/file-base64-upload", json={}) as resp:
            assert resp.status == 401
    assert (await download(sim.url + "/uploads/unknown/file.png"))[0] == 404


async def test_download_url(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    body = {"model": "z-image", "input": {"prompt": "x", "aspect_ratio": "1:1"}}
    task_id = (await post_json(http, sim.url + "/api/v1/jobs/createTask", body))["data"]["taskId"]
    await sim.wait_final(task_id)
    async with http.get(sim.url + "/api/v1/jobs/recordInfo", params={"taskId": task_id}) as resp:
        result_json = (await resp.json())["data"]["resultJson"]
    [result_url] = json.loads(result_json)["resultUrls"]

    link = await post_json(http, sim.url + "/api/v1/common/download-url", {"url": result_url})
    assert link["code"] == 200 and link["data"].startswith(result_url)
    status, content_type, data = await download(link["data"])
    assert (status, content_type) == (200, "image/png") and data.startswith(b"\x89PNG")

    foreign = await post_json(
        http, sim.url + "/api/v1/common/download-url", {"url": "https://example.com/a.png"}
    )
    assert foreign["code"] == 422
