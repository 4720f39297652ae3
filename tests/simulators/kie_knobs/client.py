"""Talking to the KIE simulator in the knob tests: its paths, KIE's 401, and create, get and wait helpers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from simulators.kie import KieSimulator
from simulators.kie.testing import CallbackReceiver

AUTH = {"Authorization": "Bearer test-key"}
CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
REPO_ROOT = Path(__file__).resolve().parents[3]
# KIE's exact 401 body (copied from the reference fixtures/error_401_missing_headers.json).
KIE_401 = {"code": 401, "msg": "You do not have access permissions"}

Json = dict[str, Any]


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
