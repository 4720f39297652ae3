"""Every KIE family, end to end over real HTTP: create → in progress → final → signed callback → real file."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from kie.signature import verify_kie_signature
from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.testing import CallbackReceiver, ReceivedCallback

HMAC_KEY = "test-webhook-hmac-key"
AUTH = {"Authorization": "Bearer test-key"}

Json = dict[str, Any]


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def sim() -> AsyncIterator[KieSimulator]:
    config = KieSimConfig(latency=0.15, latency_jitter=0, seed=1234, webhook_hmac_key=HMAC_KEY)
    sim = KieSimulator(config)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


def is_media(kind: str, data: bytes) -> bool:
    """Magic bytes of a PNG, an MP4 (ISO BMFF ``ftyp`` box) or an MP3 (ID3 tag or frame sync)."""
    if kind == "image":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "video":
        return data[4:8] == b"ftyp"
    return data.startswith(b"ID3") or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


@dataclass(frozen=True)
class Case:
    """How one family is called and read (status `data` → fields; callback body → fields)."""

    create: str
    body: Json
    status: str
    running: Callable[[Json], bool]
    succeeded: Callable[[Json], bool]
    status_urls: Callable[[Json], list[str]]
    callback_urls: Callable[[Json], list[str]]
    kind: str
    final_callback: Callable[[ReceivedCallback], bool] = field(default=lambda cb: True)


def market(model: str, kind: str) -> Case:
    return Case(
        create="/api/v1/jobs/createTask",
        body={"model": model, "input": {"prompt": "a cat", "output_format": "png"}},
        status="/api/v1/jobs/recordInfo",
        running=lambda d: d["state"] in ("waiting", "queuing", "generating"),
        succeeded=lambda d: d["state"] == "success",
        status_urls=lambda d: json.loads(d["resultJson"])["resultUrls"],
        callback_urls=lambda b: json.loads(b["data"]["resultJson"])["resultUrls"],
        kind=kind,
    )


CASES = {
    "market-image": market("google/nano-banana", "image"),
    "market-video": market("kling-2.6/text-to-video", "video"),
    "market-audio": market("elevenlabs/text-to-speech-turbo-2-5", "audio"),
    "veo": Case(
        create="/api/v1/veo/generate",
        body={"prompt": "a dog in a park", "model": "veo3_fast", "aspect_ratio": "16:9"},
        status="/api/v1/veo/record-info",
        running=lambda d: d["successFlag"] == 0,
        succeeded=lambda d: d["successFlag"] == 1,
        status_urls=lambda d: d["response"]["resultUrls"],
        callback_urls=lambda b: b["data"]["info"]["resultUrls"],
        kind="video",
    ),
    "runway": Case(
        create="/api/v1/runway/generate",
        body={"prompt": "a cat dancing", "duration": 5, "quality": "720p", "aspectRatio": "16:9"},
        status="/api/v1/runway/record-detail",
        running=lambda d: d["state"] in ("wait", "queueing", "generating"),
        succeeded=lambda d: d["state"] == "success",
        status_urls=lambda d: [d["videoInfo"]["videoUrl"], d["videoInfo"]["imageUrl"]],
        callback_urls=lambda b: [b["data"]["video_url"]],
        kind="video",
    ),
    "aleph": Case(
        create="/api/v1/aleph/generate",
        body={"prompt": "make it snow", "videoUrl": "https://example.com/in.mp4"},
        status="/api/v1/aleph/record-info",
        running=lambda d: d["successFlag"] == 0,
        succeeded=lambda d: d["successFlag"] == 1,
        status_urls=lambda d: [d["response"]["resultVideoUrl"]],
        callback_urls=lambda b: [b["data"]["result_video_url"]],
        kind="video",
    ),
    "suno": Case(
        create="/api/v1/generate",
        body={"prompt": "calm piano", "customMode": False, "instrumental": True, "model": "V4"},
        status="/api/v1/generate/record-info",
        running=lambda d: d["status"] in ("PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"),
        succeeded=lambda d: d["status"] == "SUCCESS",
        status_urls=lambda d: [track["audioUrl"] for track in d["response"]["sunoData"]],
        callback_urls=lambda b: [track["audio_url"] for track in b["data"]["data"]],
        kind="audio",
        final_callback=lambda cb: cb.callback_type == "complete",
    ),
    "gpt4o": Case(
        create="/api/v1/gpt4o-image/generate",
        body={"prompt": "a sunset", "size": "1:1", "nVariants": 2},
        status="/api/v1/gpt4o-image/record-info",
        running=lambda d: d["successFlag"] == 0,
        succeeded=lambda d: d["successFlag"] == 1 and d["progress"] == "1.00",
        status_urls=lambda d: d["response"]["resultUrls"],
        callback_urls=lambda b: b["data"]["info"]["result_urls"],
        kind="image",
    ),
    "flux-kontext": Case(
        create="/api/v1/flux/kontext/generate",
        body={"prompt": "a mountain lake", "aspectRatio": "16:9", "model": "flux-kontext-pro"},
        status="/api/v1/flux/kontext/record-info",
        running=lambda d: d["successFlag"] == 0,
        succeeded=lambda d: d["successFlag"] == 1,
        status_urls=lambda d: [d["response"]["resultImageUrl"], d["response"]["originImageUrl"]],
        callback_urls=lambda b: [b["data"]["info"]["resultImageUrl"]],
        kind="image",
    ),
}


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Json:
    async with http.request(method, url, **kwargs) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body


@pytest.mark.parametrize("name", CASES)
async def test_family_round_trip(
    name: str, sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    case = CASES[name]
    created = await call(
        http, "POST", sim.url + case.create, json={**case.body, "callBackUrl": receiver.url()}
    )
    assert created["code"] == 200 and created["msg"] == "success"
    task_id = created["data"]["taskId"]

    running = await call(http, "GET", sim.url + case.status, params={"taskId": task_id})
    assert running["code"] == 200 and running["data"]["taskId"] == task_id
    assert case.running(running["data"]), running["data"]

    [callback] = await receiver.wait_for(task_id, where=case.final_callback)
    final = await call(http, "GET", sim.url + case.status, params={"taskId": task_id})
    assert case.succeeded(final["data"]), final["data"]

    assert callback.body["code"] == 200
    headers = callback.headers
    assert verify_kie_signature(
        HMAC_KEY, task_id, headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], now=time.time()
    )

    urls = case.status_urls(final["data"])
    assert set(case.callback_urls(callback.body)) <= set(urls)
    for url in urls:
        assert url.startswith(sim.url + "/files/"), url
        async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as resp:  # files need no auth
            assert resp.status == 200
            data = await resp.read()
        expected = "image" if url.endswith(".png") else case.kind
        assert is_media(expected, data), (url, data[:16])


async def test_market_shapes(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(latency=0.3)  # "waiting" lasts the first third
    body = {"model": "google/nano-banana", "input": {"prompt": "banana"}, "callBackUrl": receiver.url()}
    task_id = (await call(http, "POST", sim.url + "/api/v1/jobs/createTask", json=body))["data"]["taskId"]
    waiting = (await call(http, "GET", sim.url + "/api/v1/jobs/recordInfo", params={"taskId": task_id}))[
        "data"
    ]
    assert waiting["state"] == "waiting"
    assert waiting["resultJson"] == "" and waiting["failCode"] is None and waiting["completeTime"] is None
    assert json.loads(waiting["param"]) == body  # the create body, as a JSON string
    assert isinstance(waiting["createTime"], int) and waiting["createTime"] > 1_600_000_000_000  # ms

    [callback] = await receiver.wait_for(task_id)
    data = callback.body["data"]
    assert callback.body["msg"] == "Playground task completed successfully."
    assert data["state"] == "success" and data["taskId"] == task_id and data["model"] == "google/nano-banana"
    assert data["consumeCredits"] == 4 and data["remainedCredits"] == 100_000 - 4
    final = (await call(http, "GET", sim.url + "/api/v1/jobs/recordInfo", params={"taskId": task_id}))["data"]
    assert final["failCode"] == "" and final["failMsg"] == "" and final["completeTime"] >= final["createTime"]


async def test_market_video_reports_progress(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    body = {"model": "bytedance/seedance-2", "input": {"prompt": "waves"}}
    task_id = (await call(http, "POST", sim.url + "/api/v1/jobs/createTask", json=body))["data"]["taskId"]
    data = (await call(http, "GET", sim.url + "/api/v1/jobs/recordInfo", params={"taskId": task_id}))["data"]
    assert isinstance(data["progress"], int) and 0 <= data["progress"] < 100
    assert sim.tasks[task_id].output == "video"


async def test_model_output_override(http: aiohttp.ClientSession) -> None:
    config = KieSimConfig(latency=0, seed=1, model_outputs={"acme/talking-head": "video"})
    async with KieSimulator(config) as sim:
        body = {"model": "acme/talking-head", "input": {"prompt": "hi"}}
        task_id = (await call(http, "POST", sim.url + "/api/v1/jobs/createTask", json=body))["data"]["taskId"]
        assert sim.tasks[task_id].output == "video"


async def test_suno_staged_callbacks(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    body = {"prompt": "lofi beat", "customMode": False, "instrumental": True, "callBackUrl": receiver.url()}
    task_id = (await call(http, "POST", sim.url + "/api/v1/generate", json=body))["data"]["taskId"]
    callbacks = await receiver.wait_for(task_id, 3)

    assert [cb.callback_type for cb in callbacks] == ["text", "first", "complete"]
    text, first, complete = (cb.body["data"]["data"] for cb in callbacks)
    assert len(text) == len(first) == len(complete) == 2  # two takes
    assert [t["audio_url"] for t in text] == ["", ""]  # lyrics only
    assert first[0]["audio_url"] and not first[1]["audio_url"]
    assert all(t["audio_url"].endswith(".mp3") and t["stream_audio_url"] for t in complete)
    assert all(cb.body["data"]["task_id"] == task_id for cb in callbacks)

    record = (await call(http, "GET", sim.url + "/api/v1/generate/record-info", params={"taskId": task_id}))[
        "data"
    ]
    assert record["status"] == "SUCCESS" and record["type"] == "GENERATE"
    assert [t["audioUrl"] for t in record["response"]["sunoData"]] == [t["audio_url"] for t in complete]


async def test_suno_requires_callback_url(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    body = {"prompt": "x", "customMode": False, "instrumental": True}
    answer = await call(http, "POST", sim.url + "/api/v1/generate", json=body)
    assert answer["code"] == 400 and "callBackUrl" in answer["msg"]
    assert not sim.tasks


async def test_suno_upload_cover_and_add_instrumental(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    common = {"uploadUrl": "https://example.com/song.mp3", "callBackUrl": receiver.url()}
    cover = {**common, "prompt": "jazz version", "customMode": False, "instrumental": False}
    instrumental = {**common, "title": "t", "negativeTags": "metal", "tags": "calm"}
    for path, body, kind in [
        ("/api/v1/generate/upload-cover", cover, "UPLOAD_COVER"),
        ("/api/v1/generate/add-instrumental", instrumental, "ADD_INSTRUMENTAL"),
    ]:
        task_id = (await call(http, "POST", sim.url + path, json=body))["data"]["taskId"]
        await receiver.wait_for(task_id, where=lambda cb: cb.callback_type == "complete")
        record = await call(http, "GET", sim.url + "/api/v1/generate/record-info", params={"taskId": task_id})
        assert record["data"]["type"] == kind and record["data"]["status"] == "SUCCESS"
    missing = await call(http, "POST", sim.url + "/api/v1/generate/add-instrumental", json=common)
    assert missing["code"] == 422 and "title" in missing["msg"]


async def test_veo_extend_needs_a_finished_veo_task(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    unknown = await call(
        http, "POST", sim.url + "/api/v1/veo/extend", json={"taskId": "nope", "prompt": "more"}
    )
    assert unknown["code"] == 422

    body = {"prompt": "a dog", "callBackUrl": receiver.url()}
    original = (await call(http, "POST", sim.url + "/api/v1/veo/generate", json=body))["data"]["taskId"]
    await receiver.wait_for(original)
    extend = {"taskId": original, "prompt": "the dog jumps", "callBackUrl": receiver.url()}
    extended = (await call(http, "POST", sim.url + "/api/v1/veo/extend", json=extend))["data"]["taskId"]
    [callback] = await receiver.wait_for(extended)
    assert callback.body["msg"] == "Veo3.1 video generated successfully."
    assert callback.body["data"]["info"]["resultUrls"][0].endswith(".mp4")


async def test_runway_callback_uses_snake_case_task_id(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    body = {"prompt": "a cat", "duration": 5, "quality": "720p", "callBackUrl": receiver.url()}
    task_id = (await call(http, "POST", sim.url + "/api/v1/runway/generate", json=body))["data"]["taskId"]
    [callback] = await receiver.wait_for(task_id)
    assert callback.body["data"]["task_id"] == task_id and "taskId" not in callback.body["data"]
    assert set(callback.body["data"]) == {"task_id", "video_id", "video_url", "image_url"}
