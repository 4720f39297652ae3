"""Fault injection and control: create-time faults, callback faults, failures, auth, markers, /_sim."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.testing import CallbackReceiver

AUTH = {"Authorization": "Bearer test-key"}
CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
REPO_ROOT = Path(__file__).resolve().parents[2]
# KIE's exact 401 body (copied from the reference fixtures/error_401_missing_headers.json).
KIE_401 = {"code": 401, "msg": "You do not have access permissions"}

Json = dict[str, Any]


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def sim() -> AsyncIterator[KieSimulator]:
    config = KieSimConfig(latency=0.1, latency_jitter=0, seed=99, webhook_hmac_key="k", callback_backoff=0.01)
    sim = KieSimulator(config)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


def market_body(receiver: CallbackReceiver | None = None, prompt: str = "a cat") -> Json:
    body: Json = {"model": "google/nano-banana", "input": {"prompt": prompt}}
    if receiver is not None:
        body["callBackUrl"] = receiver.url()
    return body


async def post(http: aiohttp.ClientSession, url: str, body: Json) -> tuple[int, Json]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def get(http: aiohttp.ClientSession, url: str, **params: str) -> tuple[int, Json]:
    async with http.get(url, params=params) as resp:
        return resp.status, await resp.json()


async def final(sim: KieSimulator, task_id: str) -> None:
    async with asyncio.timeout(5):
        await sim.wait_final(task_id)


async def settled(sim: KieSimulator, task_id: str) -> None:
    async with asyncio.timeout(5):
        await sim.wait_settled(task_id)


async def create(http: aiohttp.ClientSession, sim: KieSimulator, body: Json, path: str = CREATE) -> str:
    status, answer = await post(http, sim.url + path, body)
    assert status == 200 and answer["code"] == 200, answer
    return answer["data"]["taskId"]


# --- create-time faults -----------------------------------------------------------------------------


async def test_429_share_refuses_and_creates_nothing(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(create_429_share=1.0)
    status, body = await post(http, sim.url + CREATE, market_body())
    assert status == 429 and body["code"] == 429
    assert not sim.tasks


async def test_5xx_share_refuses_and_creates_nothing(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(create_5xx_share=1.0)
    status, body = await post(http, sim.url + CREATE, market_body())
    assert status == 500 and body["code"] == 500
    assert not sim.tasks


async def test_rate_limit(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(rate_limit=2, rate_window=60)
    await create(http, sim, market_body())
    await create(http, sim, market_body())
    status, body = await post(http, sim.url + CREATE, market_body())
    assert (status, body["code"], len(sim.tasks)) == (429, 429, 2)


async def test_lost_answer_drop_still_creates_the_task(
    sim: KieSimulator, http: aiohttp.ClientSession
) -> None:
    sim.configure(lost_answer_share=1.0)
    with pytest.raises(aiohttp.ClientError):
        await post(http, sim.url + CREATE, market_body())
    status, listing = await get(http, sim.url + "/_sim/tasks")
    assert status == 200 and len(listing["tasks"]) == 1
    [task_id] = sim.tasks
    await final(sim, task_id)  # the orphan runs to completion anyway
    assert sim.stats["answers_lost"] == 1


async def test_lost_answer_504(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(lost_answer_share=1.0, lost_answer_mode="504")
    async with http.post(sim.url + CREATE, json=market_body()) as resp:
        assert resp.status == 504
    assert len(sim.tasks) == 1


async def test_forced_create_code(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(force_create_code=402)
    status, body = await post(http, sim.url + CREATE, market_body())
    assert (status, body["code"], body["data"]) == (200, 402, None)  # KIE's outcome lives in the body
    sim.configure(mirror_http_status=True, force_create_code=455)
    status, body = await post(http, sim.url + CREATE, market_body())
    assert (status, body["code"]) == (455, 455)
    assert not sim.tasks


async def test_create_marker(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    status, body = await post(http, sim.url + "/api/v1/veo/generate", {"prompt": "x [sim:create:451]"})
    assert (status, body["code"]) == (200, 451)
    assert not sim.tasks


async def test_insufficient_credits(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(credits=3)  # an image costs 4 by default
    _, body = await post(http, sim.url + CREATE, market_body())
    assert body["code"] == 402
    assert (await get(http, sim.url + "/api/v1/chat/credit"))[1] == {"code": 200, "msg": "success", "data": 3}


async def test_invalid_requests(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    assert (await post(http, sim.url + CREATE, {"input": {}}))[1]["code"] == 422
    assert (await post(http, sim.url + CREATE, {"model": "google/nano-banana"}))[1]["code"] == 422
    async with http.post(sim.url + CREATE, data=b"not json") as resp:
        assert (await resp.json())["code"] == 400
    assert not sim.tasks


# --- auth -------------------------------------------------------------------------------------------


async def test_missing_or_wrong_auth_is_401(sim: KieSimulator) -> None:
    async with aiohttp.ClientSession() as anonymous:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
            async with anonymous.post(sim.url + CREATE, json=market_body(), headers=headers) as resp:
                assert resp.status == 401 and await resp.json() == KIE_401
        async with anonymous.get(sim.url + "/api/v1/chat/credit") as resp:
            assert resp.status == 401

        sim.configure(api_key="the-real-key")
        wrong = {"Authorization": "Bearer test-key"}
        async with anonymous.get(sim.url + "/api/v1/chat/credit", headers=wrong) as resp:
            assert resp.status == 401 and await resp.json() == KIE_401
        right = {"Authorization": "Bearer the-real-key"}
        async with anonymous.get(sim.url + "/api/v1/chat/credit", headers=right) as resp:
            assert resp.status == 200
    assert not sim.tasks


# --- status errors ----------------------------------------------------------------------------------


async def test_status_errors(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    assert (await get(http, sim.url + RECORD, taskId="unknown"))[1] == {"code": 404, "msg": "Task not found"}

    sim.configure(record_null_seconds=30)
    task_id = await create(http, sim, market_body())
    assert (await get(http, sim.url + RECORD, taskId=task_id))[1] == {
        "code": 422,
        "msg": "recordInfo is null",
        "data": None,
    }
    # A task of another family is not found by this family's status endpoint.
    assert (await get(http, sim.url + "/api/v1/veo/record-info", taskId=task_id))[1]["code"] == 404

    sim.configure(status_429_share=1.0)
    status, body = await get(http, sim.url + RECORD, taskId=task_id)
    assert (status, body["code"]) == (429, 429)


# --- outcomes ---------------------------------------------------------------------------------------


async def test_failure_share_market_shape(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(failure_share=1.0)
    task_id = await create(http, sim, market_body(receiver))
    [callback] = await receiver.wait_for(task_id)
    assert callback.body["code"] == 501 and callback.body["msg"] == "Playground task failed."
    data = callback.body["data"]
    assert data["state"] == "fail" and data["consumeCredits"] == 0
    assert isinstance(data["failCode"], str) and int(data["failCode"]) in sim.config.fail_codes
    assert data["failMsg"] and "resultJson" not in data

    _, record = await get(http, sim.url + RECORD, taskId=task_id)
    assert record["code"] == 200  # a failed task is still a successful query
    assert record["data"]["state"] == "fail" and record["data"]["failCode"] == data["failCode"]
    assert record["data"]["resultJson"] == ""
    _, credit = await get(http, sim.url + "/api/v1/chat/credit")
    assert credit["data"] == 100_000  # failures are not billed


FAIL_CASES = {
    "veo": ("/api/v1/veo/generate", {"prompt": "x"}, "/api/v1/veo/record-info"),
    "runway": ("/api/v1/runway/generate", {"prompt": "x"}, "/api/v1/runway/record-detail"),
    "aleph": (
        "/api/v1/aleph/generate",
        {"prompt": "x", "videoUrl": "https://e.com/v.mp4"},
        "/api/v1/aleph/record-info",
    ),
    "suno": ("/api/v1/generate", {"prompt": "x", "customMode": False}, "/api/v1/generate/record-info"),
    "gpt4o": (
        "/api/v1/gpt4o-image/generate",
        {"prompt": "x", "size": "1:1"},
        "/api/v1/gpt4o-image/record-info",
    ),
    "flux": ("/api/v1/flux/kontext/generate", {"prompt": "x"}, "/api/v1/flux/kontext/record-info"),
}


@pytest.mark.parametrize("family", FAIL_CASES)
async def test_fail_marker_special_families(
    family: str, sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    create_path, body, status_path = FAIL_CASES[family]
    body = {**body, "prompt": "x [sim:fail:451]", "callBackUrl": receiver.url()}
    task_id = await create(http, sim, body, create_path)
    [callback] = await receiver.wait_for(task_id)
    assert callback.body["code"] == 451 and callback.body["msg"]
    _, record = await get(http, sim.url + status_path, taskId=task_id)
    data = record["data"]
    if family == "runway":
        assert (data["state"], data["failCode"], data["videoInfo"]) == ("fail", 451, None)
    elif family == "suno":
        assert data["status"] == "CREATE_TASK_FAILED" and data["errorCode"] == 451
        assert callback.body["data"]["callbackType"] == "error"
    else:
        assert data["successFlag"] == 2 and data["errorCode"] == 451 and data["response"] is None


async def test_success_marker_beats_failure_share(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(failure_share=1.0)
    task_id = await create(http, sim, market_body(prompt="a cat [sim:success]"))
    await final(sim, task_id)
    assert sim.tasks[task_id].outcome == "success"


# --- callback faults --------------------------------------------------------------------------------


async def test_duplicated_callbacks(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(callback_duplicate_share=1.0)
    task_id = await create(http, sim, market_body(receiver))
    copies = sim.tasks[task_id].plan.callback_copies
    assert copies in (2, 3)
    received = await receiver.wait_for(task_id, copies)
    assert len({json.dumps(cb.body, sort_keys=True) for cb in received}) == 1  # identical bodies
    assert sim.stats["callbacks_duplicated"] == copies - 1


async def test_lost_callback(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(callback_lost_share=1.0)
    task_id = await create(http, sim, market_body(receiver))
    await final(sim, task_id)
    # Nothing was scheduled: the record says "lost" and polling remains the only way to learn the outcome.
    assert [record.outcome for record in sim.tasks[task_id].callbacks] == ["lost"]
    assert sim.stats["callbacks_lost"] == 1 and not receiver.received
    assert (await get(http, sim.url + RECORD, taskId=task_id))[1]["data"]["state"] == "success"


async def test_nocallback_marker(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    task_id = await create(http, sim, market_body(receiver, prompt="[sim:nocallback] a cat"))
    await final(sim, task_id)
    assert sim.stats["callbacks_lost"] == 1 and not receiver.received


async def test_late_callback_arrives_after_status_is_final(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(callback_late_share=1.0, callback_late_delay=0.3)
    task_id = await create(http, sim, market_body(receiver))
    await final(sim, task_id)
    assert (await get(http, sim.url + RECORD, taskId=task_id))[1]["data"]["state"] == "success"
    assert not receiver.received
    [callback] = await receiver.wait_for(task_id)
    assert callback.received_at - sim.tasks[task_id].completed_at >= 0.25


async def test_callback_retried_on_non_2xx(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    receiver.fail_next(2, status=503)
    task_id = await create(http, sim, market_body(receiver))
    await receiver.wait_for(task_id)
    assert [cb.answered for cb in receiver.for_task(task_id, accepted_only=False)] == [503, 503, 200]
    assert [(r.attempt, r.outcome) for r in sim.tasks[task_id].callbacks] == [
        (1, "rejected"),
        (2, "rejected"),
        (3, "delivered"),
    ]


async def test_callback_given_up_after_three_attempts(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    receiver.fail_next(-1, status=500)
    task_id = await create(http, sim, market_body(receiver))
    await settled(sim, task_id)
    assert sim.stats["callbacks_given_up"] == 1
    assert len(receiver.received) == 3
    # Unreachable receivers are counted too, and the server keeps serving.
    unreachable = {**market_body(), "callBackUrl": "http://127.0.0.1:9/nowhere"}
    task_id = await create(http, sim, unreachable)
    await settled(sim, task_id)
    assert sim.stats["callbacks_given_up"] == 2
    assert sim.tasks[task_id].callbacks[0].outcome == "error"
    assert (await get(http, sim.url + "/api/v1/chat/credit"))[0] == 200


async def test_suno_out_of_order(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(suno_out_of_order_share=1.0)
    body = {"prompt": "song", "customMode": False, "callBackUrl": receiver.url()}
    task_id = await create(http, sim, body, "/api/v1/generate")
    received = await receiver.wait_for(task_id, 3)
    assert [cb.callback_type for cb in received] == ["complete", "first", "text"]


async def test_unsigned_without_hmac_key(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(webhook_hmac_key=None)
    task_id = await create(http, sim, market_body(receiver))
    [callback] = await receiver.wait_for(task_id)
    assert "X-Webhook-Signature" not in callback.headers and "X-Webhook-Timestamp" not in callback.headers


# --- /_sim control, credits, determinism -------------------------------------------------------------


async def test_sim_control_endpoints(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    status, config = await post(http, sim.url + "/_sim/config", {"latency": 5, "credits": 1000})
    assert status == 200 and config["latency"] == 5 and sim.config.latency == 5
    assert (await post(http, sim.url + "/_sim/config", {"latency": -1}))[0] == 400
    assert (await post(http, sim.url + "/_sim/config", {"no_such_knob": 1}))[0] == 400

    slow = await create(http, sim, market_body(receiver))
    doomed = await create(http, sim, market_body(receiver, prompt="[sim:slow]"))
    _, task = await get(http, sim.url + f"/_sim/tasks/{slow}")
    assert task["stage"] == "waiting" and task["final"] is False and task["family"] == "market"

    _, task = await post(http, sim.url + f"/_sim/tasks/{slow}/complete", {})
    assert task["stage"] == "success"
    _, task = await post(http, sim.url + f"/_sim/tasks/{doomed}/complete", {"outcome": "fail", "code": 455})
    assert (task["stage"], task["failCode"]) == ("fail", 455)
    assert (await post(http, sim.url + f"/_sim/tasks/{doomed}/complete", {}))[0] == 409
    assert (await get(http, sim.url + "/_sim/tasks/nope"))[0] == 404

    await receiver.wait_for(slow)
    [failed] = await receiver.wait_for(doomed)
    assert failed.body["code"] == 501 and failed.body["data"]["failCode"] == "455"

    _, stats = await get(http, sim.url + "/_sim/stats")
    assert stats["tasks_created"] == 2 and stats["tasks_succeeded"] == 1 and stats["tasks_failed"] == 1
    assert stats["credits"] == 996  # 1000 minus one image
    assert (await get(http, sim.url + "/api/v1/chat/credit"))[1]["data"] == 996
    assert len((await get(http, sim.url + "/_sim/tasks", family="market"))[1]["tasks"]) == 2

    assert (await post(http, sim.url + "/_sim/reset", {}))[1] == {"ok": True}
    assert not sim.tasks and (await get(http, sim.url + "/_sim/stats"))[1]["credits"] == 1000


async def test_public_base_url_and_record_id(sim: KieSimulator, http: aiohttp.ClientSession) -> None:
    sim.configure(public_base_url="https://kie-sim.example:8443/", market_record_id=True)
    _, answer = await post(http, sim.url + CREATE, market_body())
    task_id = answer["data"]["taskId"]
    assert answer["data"]["recordId"]
    await final(sim, task_id)
    _, record = await get(http, sim.url + RECORD, taskId=task_id)
    [url] = json.loads(record["data"]["resultJson"])["resultUrls"]
    assert url == f"https://kie-sim.example:8443/files/{task_id}/0.png"


async def test_same_seed_same_run(http: aiohttp.ClientSession) -> None:
    async def run() -> list[tuple[str, bool]]:
        config = KieSimConfig(latency=5, seed=7, failure_share=0.5)
        async with KieSimulator(config) as sim:
            ids = [await create(http, sim, market_body()) for _ in range(5)]
            return [(task_id, sim.tasks[task_id].plan.fails) for task_id in ids]

    first, second = await run(), await run()
    assert first == second
    assert {fails for _, fails in first} == {True, False}  # the share is applied per task


async def test_cli_runs_and_stops_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.kie",
        "--port",
        "0",
        "--latency",
        "0.05",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
    assert "listening on http://127.0.0.1:" in line, line
    url = line.split("listening on ")[1].split()[0]
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url + "/_sim/stats") as resp:
        assert resp.status == 200
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    assert b"stopped" in await proc.stdout.read()
