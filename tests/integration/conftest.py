"""The whole system as `make run` starts it — dev server, PostgreSQL, both simulators, worker and webhooks as
separate processes talking real HTTP — brought up by the same launcher, on free ports."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from db import Generations, Ledger, check_invariant, create_pool
from genflow.settings import Settings
from genflow.stack import Ports, Stack
from workflows.generation import GenerationWorkflow
from workflows.models import GenerationRequest, GenerationResult, Stage
from workflows.starter import start_generation


@dataclass
class System:
    stack: Stack
    client: Client
    pool: asyncpg.Pool
    http: aiohttp.ClientSession

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.pool)

    @property
    def generations(self) -> Generations:
        return Generations(self.pool)

    @property
    def telegram(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports.telegram_simulator}"

    @property
    def kie(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports.kie_simulator}"

    async def new_user(self, credits: int = 1000) -> int:
        user_id = int(uuid.uuid4().int % 10**9) + 1000
        await self.ledger.ensure_user(user_id, language="en")
        await self.ledger.credit(user_id, credits, key=f"test-topup:{user_id}", kind="topup", reason="test")
        return user_id

    async def user_sends_file(self, user_id: int, name: str, data: bytes, kind: str) -> str:
        """The user sends a file in Telegram; returns its file_id as the bot would see it."""
        form = aiohttp.FormData()
        form.add_field("kind", kind)
        form.add_field("file", data, filename=name)
        async with self.http.post(f"{self.telegram}/_sim/users/{user_id}/message", data=form) as response:
            assert response.status == 200, await response.text()
            update = await response.json()
        message = update["update"]["message"]
        media = message.get(kind)
        return media[-1]["file_id"] if isinstance(media, list) else media["file_id"]

    async def chat(self, chat_id: int) -> dict[str, Any]:
        async with self.http.get(f"{self.telegram}/_sim/chats/{chat_id}") as response:
            return (await response.json())["chat"]

    async def kie_config(self, **patch: Any) -> None:
        async with self.http.post(f"{self.kie}/_sim/config", json=patch) as response:
            assert response.status == 200, await response.text()

    async def generate(self, user_id: int, model_id: str, inputs: dict[str, Any], key: str | None = None):
        request = GenerationRequest(
            user_id=user_id,
            chat_id=user_id,
            request_key=key or uuid.uuid4().hex[:12],
            model_id=model_id,
            inputs=inputs,
        )
        return await start_generation(
            self.client, request, task_queue=self.stack.settings.temporal_task_queue
        )

    async def wait_stage(self, handle, stage: Stage, within: float = 30) -> None:
        for _ in range(int(within / 0.05)):
            if (await handle.query(GenerationWorkflow.status)).stage == stage:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{handle.id} never reached {stage}")

    async def assert_ledger_consistent(self) -> None:
        assert await check_invariant(self.pool) == []


@pytest.fixture(scope="session")
async def system(pg_server_url: str) -> AsyncIterator[System]:
    name = f"e2e_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database_url = pg_server_url.replace("/postgres?", f"/{name}?", 1)
    data_dir = Path(tempfile.mkdtemp(prefix="genflow-e2e-", dir="/tmp"))
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        kie_api_key=None,
        telegram_bot_token=None,
        callback_secret=None,
        kie_webhook_hmac_key=None,
        public_base_url="http://127.0.0.1:8080",
    )
    stack = Stack(data_dir, ports=Ports.free(), settings=settings, quiet=True)
    await asyncio.to_thread(stack.start)
    try:
        client = await Client.connect(
            f"127.0.0.1:{stack.ports.temporal}", data_converter=pydantic_data_converter
        )
        pool = await create_pool(database_url, max_size=5)
        async with aiohttp.ClientSession() as http:
            yield System(stack, client, pool, http)
        await pool.close()
    finally:
        await asyncio.to_thread(stack.stop)


async def finished(handle, within: float = 60) -> GenerationResult:
    return await asyncio.wait_for(handle.result(), within)
