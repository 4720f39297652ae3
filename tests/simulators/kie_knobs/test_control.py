"""The KIE simulator's /_sim control endpoints, its public base URL, determinism under a seed, and its
command line."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp

from simulators.kie import KieSimConfig, KieSimulator
from simulators.kie.testing import CallbackReceiver
from tests.simulators.kie_knobs.client import CREATE, RECORD, REPO_ROOT, create, final, get, market_body, post


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
