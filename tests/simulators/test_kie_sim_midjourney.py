"""The simulated Midjourney family over real HTTP: create → generating → signed callback → record-info with
four images (or the videos asked for), failures by marker, KIE's 422s, and the adapter reading all of it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from kie.adapters import adapter_for
from kie.client import KieClient
from kie.models import MediaType, TaskState
from kie.signature import verify_kie_signature
from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.testing import CallbackReceiver

HMAC_KEY = "test-webhook-hmac-key"
AUTH = {"Authorization": "Bearer test-key"}
GENERATE, RECORD = "/api/v1/mj/generate", "/api/v1/mj/record-info"
PHOTO = "https://example.com/source-image.jpg"
ADAPTER = adapter_for("midjourney")

Json = dict[str, Any]


@dataclass(frozen=True)
class Model:
    id: str
    output: str
    api: str = "midjourney"
    endpoint: str = GENERATE
    status_endpoint: str = RECORD


MJ_IMAGE = Model("midjourney/text-to-image", "image")
MJ_VIDEO = Model("midjourney/image-to-video", "video")


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def sim() -> AsyncIterator[KieSimulator]:
    sim = KieSimulator(KieSimConfig(latency=0.15, latency_jitter=0, seed=77, webhook_hmac_key=HMAC_KEY))
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Json:
    async with http.request(method, url, **kwargs) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body


async def create(sim: KieSimulator, http: aiohttp.ClientSession, body: Json) -> str:
    created = await call(http, "POST", sim.url + GENERATE, json=body)
    assert (created["code"], created["msg"]) == (200, "success"), created
    return created["data"]["taskId"]


async def record(sim: KieSimulator, http: aiohttp.ClientSession, task_id: str) -> Json:
    answer = await call(http, "GET", sim.url + RECORD, params={"taskId": task_id})
    assert answer["code"] == 200 and answer["data"]["taskId"] == task_id
    return answer


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as resp:  # files need no auth
        assert resp.status == 200, url
        return await resp.read()


def signed(callback: Any, task_id: str) -> bool:
    headers = callback.headers
    return verify_kie_signature(
        HMAC_KEY, task_id, headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], now=time.time()
    )


IMAGE_TASKS = {
    "text-to-image": {"taskType": "mj_txt2img", "prompt": "a castle", "speed": "fast", "aspectRatio": "16:9"},
    "image-to-image": {"taskType": "mj_img2img", "prompt": "cyberpunk", "fileUrls": [PHOTO], "version": "7"},
    "legacy fileUrl": {"taskType": "mj_img2img", "prompt": "cyberpunk", "fileUrl": PHOTO},
}


@pytest.mark.parametrize("name", IMAGE_TASKS)
async def test_an_image_task_gives_four_images(
    name: str, sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    task_id = await create(sim, http, {**IMAGE_TASKS[name], "callBackUrl": receiver.url()})

    running = await record(sim, http, task_id)
    assert running["data"]["successFlag"] == 0 and running["data"]["resultInfoJson"] is None
    assert ADAPTER.parse_status(running, 200, MJ_IMAGE, task_id=task_id).state is TaskState.IN_PROGRESS

    [callback] = await receiver.wait_for(task_id)
    assert signed(callback, task_id)
    assert (callback.body["code"], callback.body["msg"]) == (200, "success")
    callback_urls = callback.body["data"]["resultUrls"]
    assert len(callback_urls) == 4 and all(isinstance(url, str) for url in callback_urls)

    final = await record(sim, http, task_id)
    data = final["data"]
    assert (data["successFlag"], data["taskType"], data["errorCode"]) == (
        1,
        IMAGE_TASKS[name]["taskType"],
        None,
    )
    assert [item["resultUrl"] for item in data["resultInfoJson"]["resultUrls"]] == callback_urls
    for url in callback_urls:
        assert (await fetch(url)).startswith(b"\x89PNG\r\n\x1a\n")

    # What the adapter makes of the simulator's wire shapes: four images either way.
    status = ADAPTER.parse_status(final, 200, MJ_IMAGE, task_id=task_id)
    assert status.state is TaskState.SUCCEEDED and [f.url for f in status.files] == callback_urls
    info = ADAPTER.parse_callback(callback.body, MJ_IMAGE)
    assert info.task_id == task_id and info.status == status.model_copy(update={"stage": None})


@pytest.mark.parametrize(("task_type", "batch"), [("mj_video", None), ("mj_video", 2), ("mj_video_hd", 4)])
async def test_a_video_task_gives_the_videos_asked_for(
    task_type: str,
    batch: int | None,
    sim: KieSimulator,
    receiver: CallbackReceiver,
    http: aiohttp.ClientSession,
) -> None:
    body: Json = {"taskType": task_type, "prompt": "gentle wind", "fileUrls": [PHOTO], "motion": "low"}
    if batch is not None:
        body["videoBatchSize"] = batch
    task_id = await create(sim, http, {**body, "callBackUrl": receiver.url()})
    [callback] = await receiver.wait_for(task_id)
    assert signed(callback, task_id)
    final = await record(sim, http, task_id)
    status = ADAPTER.parse_status(final, 200, MJ_VIDEO, task_id=task_id)
    assert len(status.files) == (batch or 1) and {f.media_type for f in status.files} == {MediaType.VIDEO}
    assert callback.body["data"]["resultUrls"] == [f.url for f in status.files]
    assert (await fetch(status.files[0].url))[4:8] == b"ftyp"


@pytest.mark.parametrize(("marker", "flag", "code"), [("[sim:fail:400]", 2, 400), ("[sim:fail:501]", 3, 501)])
async def test_a_failure_marker(
    marker: str,
    flag: int,
    code: int,
    sim: KieSimulator,
    receiver: CallbackReceiver,
    http: aiohttp.ClientSession,
) -> None:
    body = {"taskType": "mj_txt2img", "prompt": f"a cat {marker}", "callBackUrl": receiver.url()}
    task_id = await create(sim, http, body)
    [callback] = await receiver.wait_for(task_id)
    assert signed(callback, task_id)
    # The callback page documents only 200 and 500; record-info carries the task's own code.
    assert callback.body["code"] == 500 and callback.body["data"]["resultUrls"] == []
    data = (await record(sim, http, task_id))["data"]
    assert (data["successFlag"], data["errorCode"], data["resultInfoJson"]) == (flag, code, None)
    assert data["errorMessage"]

    status = ADAPTER.parse_status({"code": 200, "msg": "success", "data": data}, 200, MJ_IMAGE)
    assert (status.state, status.fail_code) == (TaskState.FAILED, str(code))
    assert ADAPTER.parse_callback(callback.body, MJ_IMAGE).status.state is TaskState.FAILED
    assert sim.stats["tasks_failed"] == 1 and sim.engine.credits == sim.config.credits  # failures are free


async def test_the_failure_share_knob(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(failure_share=1.0, fail_codes=[422])
    task_id = await create(sim, http, {"taskType": "mj_txt2img", "prompt": "a cat"})
    task = await sim.wait_final(task_id)
    assert (task.outcome, task.fail_code, task.family.name) == ("fail", 422, "midjourney")


REFUSED = {
    "no prompt": {"taskType": "mj_txt2img"},
    "no taskType": {"prompt": "a cat"},
    "unknown taskType": {"taskType": "mj_upscale", "prompt": "a cat"},
    "bad speed": {"taskType": "mj_txt2img", "prompt": "a cat", "speed": "warp"},
    "bad aspect ratio": {"taskType": "mj_txt2img", "prompt": "a cat", "aspectRatio": "7:5"},
    "bad version": {"taskType": "mj_txt2img", "prompt": "a cat", "version": "8"},
    "stylization too high": {"taskType": "mj_txt2img", "prompt": "a cat", "stylization": 1001},
    "weirdness not a number": {"taskType": "mj_txt2img", "prompt": "a cat", "weirdness": "lots"},
    "prompt too long": {"taskType": "mj_txt2img", "prompt": "a" * 2001},
    "img2img without a photo": {"taskType": "mj_img2img", "prompt": "a cat"},
    "fileUrls not a list": {"taskType": "mj_img2img", "prompt": "a cat", "fileUrls": PHOTO},
    "video without motion": {"taskType": "mj_video", "prompt": "a cat", "fileUrls": [PHOTO]},
    "video with two photos": {
        "taskType": "mj_video",
        "prompt": "a",
        "fileUrls": [PHOTO, PHOTO],
        "motion": "high",
    },
    "video batch of 3": {
        "taskType": "mj_video",
        "prompt": "a",
        "fileUrls": [PHOTO],
        "motion": "high",
        "videoBatchSize": 3,
    },
}


@pytest.mark.parametrize("name", REFUSED)
async def test_invalid_requests_are_refused_with_422(
    name: str, sim: KieSimulator, http: aiohttp.ClientSession
) -> None:
    answer = await call(http, "POST", sim.url + GENERATE, json=REFUSED[name])
    assert answer["code"] == 422 and answer["msg"], answer
    assert not sim.tasks and sim.stats["create_invalid_422"] == 1
    with pytest.raises(Exception, match="422"):
        ADAPTER.parse_create(answer, 200)


async def test_another_familys_task_is_not_found_here(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    veo = await call(http, "POST", sim.url + "/api/v1/veo/generate", json={"prompt": "a dog"})
    answer = await call(http, "GET", sim.url + RECORD, params={"taskId": veo["data"]["taskId"]})
    assert answer["code"] == 404


@pytest.mark.parametrize(
    ("model_id", "changes", "files", "media"),
    [
        ("midjourney/text-to-image", {}, 4, MediaType.IMAGE),
        ("midjourney/image-to-image", {"fileUrls": [PHOTO]}, 4, MediaType.IMAGE),
        ("midjourney/image-to-video", {"fileUrls": [PHOTO], "videoBatchSize": 2}, 2, MediaType.VIDEO),
    ],
)
async def test_catalog_models_through_the_client(
    model_id: str, changes: Json, files: int, media: MediaType, sim: KieSimulator
) -> None:
    """The catalog example, validated (system defaults such as taskType filled in), sent by the KieClient."""
    from catalog import get_catalog  # here, not at import: a catalog problem fails only these cases

    catalog = get_catalog()
    inputs = catalog.validate(model_id, {**catalog.get(model_id).example, **changes})
    spec = catalog.get(model_id)
    async with aiohttp.ClientSession() as session:
        client = KieClient(session, base_url=sim.url, upload_base_url=sim.url, api_key="k")
        task_id = await client.create_task(spec, inputs, "http://127.0.0.1:9/cb")  # nobody listens: fine
        await sim.wait_final(task_id)
        status = await client.get_status(spec, task_id)
    assert status.state is TaskState.SUCCEEDED
    assert [f.media_type for f in status.files] == [media] * files
    assert sim.tasks[task_id].body["taskType"] == inputs["taskType"]
