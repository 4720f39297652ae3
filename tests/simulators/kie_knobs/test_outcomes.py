"""Outcomes the KIE simulator can be told to produce: failure shares in each family's shape, fail and
success markers."""

from __future__ import annotations

import aiohttp
import pytest

from simulators.kie import KieSimulator
from simulators.kie.testing import CallbackReceiver
from tests.simulators.kie_knobs.client import RECORD, create, final, get, market_body


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
