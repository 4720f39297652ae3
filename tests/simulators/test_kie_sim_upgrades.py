"""Follow-ups on a finished task, over real HTTP: Veo 1080P and 4K (the documented 200/400/422 answers, the
signed 4K callback), Runway extend, Suno extend and upload-extend; and the same through the real KieClient
and catalog models, create → status until final."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from catalog import get_catalog
from kie.adapters import adapter_for
from kie.client import KieClient
from kie.models import MediaType, TaskState
from kie.signature import verify_kie_signature
from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.testing import CallbackReceiver

HMAC_KEY = "test-webhook-hmac-key"
AUTH = {"Authorization": "Bearer test-key"}
OTHER = {"Authorization": "Bearer another-account"}
CATALOG = get_catalog()
Json = dict[str, Any]


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def sim() -> AsyncIterator[KieSimulator]:
    config = KieSimConfig(latency=0.15, latency_jitter=0, seed=4321, webhook_hmac_key=HMAC_KEY)
    async with KieSimulator(config) as sim:
        yield sim


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Json:
    async with http.request(method, url, **kwargs) as resp:
        body = await resp.json()
        assert resp.status == 200, body  # errors are in the body code, as KIE does by default
        return body


async def veo_video(sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver) -> str:
    body = {"prompt": "a dog", "callBackUrl": receiver.url()}
    task_id = (await call(http, "POST", sim.url + "/api/v1/veo/generate", json=body))["data"]["taskId"]
    await sim.wait_settled(task_id)
    return task_id


# --- Veo 1080P -----------------------------------------------------------------------------------


async def test_1080p_refuses_what_cannot_be_upgraded(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    url = sim.url + "/api/v1/veo/get-1080p-video"
    assert (await call(http, "GET", url, params={"taskId": "nope"}))["code"] == 422
    assert (await call(http, "GET", url))["msg"] == "taskId is required"

    body = {"prompt": "a dog [sim:slow]", "callBackUrl": receiver.url()}
    running = (await call(http, "POST", sim.url + "/api/v1/veo/generate", json=body))["data"]["taskId"]
    assert await call(http, "GET", url, params={"taskId": running}) == {
        "code": 422,
        "msg": "record status is not success.",
        "data": None,
    }
    done = await veo_video(sim, http, receiver)
    async with aiohttp.ClientSession(headers=OTHER) as other:  # another account's task is unknown
        assert (await call(other, "GET", url, params={"taskId": done}))["msg"] == "record is null."
    assert (await call(http, "GET", url, params={"taskId": done, "index": 3}))["code"] == 422
    market = {"model": "google/nano-banana", "input": {"prompt": "a cat"}}
    image = (await call(http, "POST", sim.url + "/api/v1/jobs/createTask", json=market))["data"]["taskId"]
    await sim.wait_final(image)
    assert (await call(http, "GET", url, params={"taskId": image}))["msg"] == "record is null."
    assert sim.stats["tasks_created"] == 3  # none of these made an upgrade


async def test_1080p_processing_then_the_url(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    parent = await veo_video(sim, http, receiver)
    url = sim.url + "/api/v1/veo/get-1080p-video"
    first = await call(http, "GET", url, params={"taskId": parent})
    assert first == {
        "code": 400,
        "msg": "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly.",
        "data": None,
    }
    again = await call(http, "GET", url, params={"taskId": parent})
    assert again["code"] == 400  # still processing: asking again starts nothing new
    upgrade = await sim.wait_settled(f"{parent}@1080p")
    ready = await call(http, "GET", url, params={"taskId": parent, "index": "0"})
    assert ready["code"] == 200 and ready["data"]["resultUrl"].endswith(".mp4")
    async with http.get(ready["data"]["resultUrl"]) as video:
        assert video.status == 200 and (await video.read())[4:8] == b"ftyp"
    assert upgrade.kind == "1080p" and upgrade.callbacks == []  # KIE documents no 1080P callback
    assert sim.stats["tasks_created"] == 2 and upgrade.consumed_credits > 0


# --- Veo 4K --------------------------------------------------------------------------------------


async def test_4k_answers_and_signed_callback(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    parent = await veo_video(sim, http, receiver)
    url = sim.url + "/api/v1/veo/get-4k-video"
    body = {"taskId": parent, "index": 0, "callBackUrl": receiver.url("/4k")}
    assert await call(http, "POST", url, json=body) == {
        "code": 200,
        "msg": "success",
        "data": {"taskId": parent, "resultUrls": None, "imageUrls": None},
    }
    processing = await call(http, "POST", url, json=body)
    assert processing["code"] == 422 and processing["msg"].startswith("4k is processing.")
    assert processing["data"] == {"taskId": parent, "resultUrls": None, "imageUrls": None}

    [callback] = await receiver.wait_for(parent, where=lambda cb: cb.path == "/4k")
    assert callback.body["code"] == 200 and callback.body["msg"] == "4K Video generated successfully."
    assert callback.body["data"]["taskId"] == parent  # the parent's id, signed as such
    assert verify_kie_signature(
        HMAC_KEY,
        parent,
        callback.headers["X-Webhook-Timestamp"],
        callback.headers["X-Webhook-Signature"],
        now=float(callback.headers["X-Webhook-Timestamp"]),
    )
    model = CATALOG.get("veo3.1-4k")
    reported = adapter_for("veo").parse_callback(callback.body, model)
    assert reported.task_id == parent and reported.status.state is TaskState.SUCCEEDED

    generated = await call(http, "POST", url, json={"taskId": parent})
    assert generated["code"] == 422 and generated["msg"] == "The video has been generated successfully"
    assert generated["data"]["resultUrls"] == callback.body["data"]["info"]["resultUrls"]
    assert generated["data"]["imageUrls"][0].endswith(".jpg")
    assert sim.stats["tasks_created"] == 2  # one 4K, however often it is asked for


async def test_4k_failure(sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver) -> None:
    parent = await veo_video(sim, http, receiver)
    url = sim.url + "/api/v1/veo/get-4k-video"
    await call(http, "POST", url, json={"taskId": parent, "callBackUrl": receiver.url("/4k")})
    await call(
        http, "POST", sim.url + f"/_sim/tasks/{parent}@4k/complete", json={"outcome": "fail", "code": 500}
    )
    [callback] = await receiver.wait_for(parent, where=lambda cb: cb.path == "/4k")
    assert callback.body == {"code": 500, "msg": "Internal server error", "data": {"taskId": parent}}
    again = await call(http, "POST", url, json={"taskId": parent})
    assert again["code"] == 501  # undocumented: a failed upgrade answers "generation failed"
    assert sim.tasks[f"{parent}@4k"].consumed_credits == 0


async def test_4k_planned_failure_uses_the_documented_message(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    parent = await veo_video(sim, http, receiver)
    body = {"taskId": parent, "callBackUrl": receiver.url("/4k?[sim:fail]")}
    await call(http, "POST", sim.url + "/api/v1/veo/get-4k-video", json=body)
    [callback] = await receiver.wait_for(parent, where=lambda cb: cb.path == "/4k")
    assert callback.body["code"] == 500
    assert (
        callback.body["msg"] == "The 4K version of this video is unavailable. Please try a different video."
    )


# --- Runway extend -------------------------------------------------------------------------------


async def test_runway_extend_continues_a_finished_runway_video(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    extend = sim.url + "/api/v1/runway/extend"
    body = {"prompt": "a cat", "duration": 5, "quality": "720p", "callBackUrl": receiver.url()}
    original = (await call(http, "POST", sim.url + "/api/v1/runway/generate", json=body))["data"]["taskId"]
    asked = {"taskId": original, "prompt": "the cat jumps", "quality": "720p", "callBackUrl": receiver.url()}
    assert (await call(http, "POST", extend, json=asked))["code"] == 422  # not finished yet
    await sim.wait_final(original)
    assert (await call(http, "POST", extend, json={**asked, "quality": "4k"}))["code"] == 422
    assert (await call(http, "POST", extend, json={**asked, "prompt": ""}))["msg"] == "prompt is required"
    async with aiohttp.ClientSession(headers=OTHER) as other:
        assert (await call(other, "POST", extend, json=asked))["code"] == 422

    extended = (await call(http, "POST", extend, json=asked))["data"]["taskId"]
    [callback] = await receiver.wait_for(extended)
    assert set(callback.body["data"]) == {"task_id", "video_id", "video_url", "image_url"}
    record = await call(http, "GET", sim.url + "/api/v1/runway/record-detail", params={"taskId": extended})
    assert record["data"]["parentTaskId"] == original and record["data"]["state"] == "success"


# --- Suno extend and upload-extend ---------------------------------------------------------------


async def suno_song(sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver) -> Json:
    body = {"prompt": "a calm song", "customMode": False, "model": "V5", "callBackUrl": receiver.url()}
    task_id = (await call(http, "POST", sim.url + "/api/v1/generate", json=body))["data"]["taskId"]
    await sim.wait_final(task_id)
    record = await call(http, "GET", sim.url + "/api/v1/generate/record-info", params={"taskId": task_id})
    return record["data"]


async def test_suno_extend_needs_a_track_of_a_finished_task(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    song = await suno_song(sim, http, receiver)
    audio_id = song["response"]["sunoData"][1]["id"]
    url = sim.url + "/api/v1/generate/extend"
    base = {"audioId": audio_id, "defaultParamFlag": False, "model": "V5", "callBackUrl": receiver.url()}
    for wrong, message in [
        ({"defaultParamFlag": None}, "defaultParamFlag is required"),
        ({"audioId": "nope"}, "audioId does not exist or its task has not succeeded"),
        ({"model": "V4"}, "model must match the source audio's model (V5)"),
        ({"model": None}, "model is required"),
        ({"defaultParamFlag": True}, "style is required"),
        (
            {"defaultParamFlag": True, "style": "jazz", "title": "T", "prompt": "more", "continueAt": 0},
            "continueAt must be greater than 0",
        ),
    ]:
        answer = await call(http, "POST", url, json={**base, **wrong})
        assert (answer["code"], answer["msg"]) == (422, message)
    async with aiohttp.ClientSession(headers=OTHER) as other:
        assert (await call(other, "POST", url, json=base))["code"] == 422

    extended = (await call(http, "POST", url, json=base))["data"]["taskId"]
    stages = await receiver.wait_for(extended, 3)
    assert [cb.callback_type for cb in stages] == ["text", "first", "complete"]
    record = await call(http, "GET", sim.url + "/api/v1/generate/record-info", params={"taskId": extended})
    assert (record["data"]["type"], record["data"]["status"]) == ("EXTEND", "SUCCESS")


async def test_suno_upload_extend(
    sim: KieSimulator, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    url = sim.url + "/api/v1/generate/upload-extend"
    base = {"uploadUrl": "https://example.com/a.mp3", "defaultParamFlag": False, "model": "V4"}
    base["callBackUrl"] = receiver.url()
    assert (await call(http, "POST", url, json=base))["msg"] == "prompt is required"
    custom = {**base, "defaultParamFlag": True, "instrumental": True, "style": "jazz", "title": "T"}
    assert (await call(http, "POST", url, json=custom))["msg"] == "continueAt must be greater than 0"
    task_id = (await call(http, "POST", url, json={**custom, "continueAt": 30}))["data"]["taskId"]
    await receiver.wait_for(task_id, where=lambda cb: cb.callback_type == "complete")


# --- through the KieClient, as the workflow does: create, then status until final ----------------


@pytest.fixture
async def client(sim: KieSimulator) -> AsyncIterator[KieClient]:
    async with aiohttp.ClientSession() as session:
        yield KieClient(session, base_url=sim.url, upload_base_url=sim.url, api_key="test-key")


async def until_final(client: KieClient, model_id: str, task_id: str) -> Any:
    for _ in range(100):
        status = await client.get_status(CATALOG.get(model_id), task_id)
        if status.is_final:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{model_id} {task_id} never finished")


async def generated(client: KieClient, receiver: CallbackReceiver, model_id: str, **changes: Any) -> Any:
    spec = CATALOG.get(model_id)
    inputs = {**CATALOG.validate(model_id, {**spec.example, **changes})}
    task_id = await client.create_task(spec, inputs, receiver.url())
    return task_id, await until_final(client, model_id, task_id)


@pytest.mark.parametrize(
    ("parent", "upgrade", "field", "files"),
    [
        ("veo3.1", "veo3.1-1080p", "taskId", 1),
        ("veo3.1", "veo3.1-4k", "taskId", 1),
        ("veo3.1", "veo3.1-extend", "taskId", 1),
        ("runway", "runway-extend", "taskId", 1),
        ("suno/generate-music", "suno/extend", "audioId", 2),
    ],
)
async def test_every_upgrade_model_through_the_client(
    client: KieClient, receiver: CallbackReceiver, parent: str, upgrade: str, field: str, files: int
) -> None:
    changes = {"imageUrl": None} if parent == "runway" else {}
    parent_id, done = await generated(client, receiver, parent, **changes)
    assert done.state is TaskState.SUCCEEDED
    task_id, status = await generated(client, receiver, upgrade, **{field: parent_id})
    assert status.state is TaskState.SUCCEEDED and status.task_id == task_id
    assert len(status.files) == files
    assert {f.media_type for f in status.files} == {MediaType(CATALOG.get(upgrade).output)}
    if upgrade.startswith("veo3.1-") and upgrade != "veo3.1-extend":
        assert task_id == f"{parent_id}@{upgrade.removeprefix('veo3.1-')}"


async def test_suno_extend_of_the_second_take_in_the_source_model(
    sim: KieSimulator, client: KieClient, receiver: CallbackReceiver
) -> None:
    parent_id, _ = await generated(client, receiver, "suno/generate-music", model="V4_5PLUS")
    task_id, status = await generated(client, receiver, "suno/extend", audioId=f"{parent_id}:1")
    assert status.state is TaskState.SUCCEEDED
    sent = sim.tasks[task_id].body
    assert sent["model"] == "V4_5PLUS"  # copied from the parent: KIE wants the source's model
    record = await client.get_status(CATALOG.get("suno/generate-music"), parent_id)
    assert record.is_final
    song = sim.tasks[parent_id]
    assert sent["audioId"] != parent_id and song.outcome == "success"


async def test_a_4k_callback_naming_the_parent_is_read_as_the_upgrade(
    client: KieClient, receiver: CallbackReceiver
) -> None:
    parent_id, _ = await generated(client, receiver, "veo3.1")
    task_id, _ = await generated(client, receiver, "veo3.1-4k", taskId=parent_id)
    # The workflow polls every id a callback names, with the generation's model: the parent's id works.
    status = await client.get_status(CATALOG.get("veo3.1-4k"), parent_id)
    assert status.state is TaskState.SUCCEEDED and status.task_id == parent_id
    assert task_id == f"{parent_id}@4k"
