"""Create-time faults (429, 5xx, rate limit, lost answers, forced codes, credits, invalid requests), auth
and status errors of the KIE simulator."""

from __future__ import annotations

import aiohttp
import pytest

from simulators.kie import KieSimulator
from tests.simulators.kie_knobs.client import CREATE, KIE_401, RECORD, create, final, get, market_body, post

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
