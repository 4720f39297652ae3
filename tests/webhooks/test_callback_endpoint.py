"""The KIE callback endpoint over real HTTP, against the dev server and PostgreSQL: each rule, and the
signal that reaches (or never reaches) a real GenerationWorkflow."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts.models import GenerationRequest, Stage
from db import Generations
from genflow.embedded import free_port
from kie.signature import callback_token, kie_signature
from tests.workflows.fakes import FakeWorld
from webhooks.app import WebhookConfig, create_app
from workflows.generation import GenerationWorkflow
from workflows.starter import start_generation

SECRET = "test-callback-secret"
MODEL = "google/nano-banana"
HMAC_KEY = "test-kie-hmac-key"


@dataclass
class Harness:
    url: str
    http: aiohttp.ClientSession
    client: Client
    world: FakeWorld
    queue: str
    generations: Generations

    async def post(
        self,
        workflow_id: str,
        body: object,
        *,
        token: str | None = "auto",
        task_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = "auto",
        raw: bytes | None = None,
        headers: dict | None = None,
        model: str | None = MODEL,
    ) -> tuple[int, dict]:
        params = {} if model is None else {"m": model}
        if token == "auto":
            token = callback_token(SECRET, workflow_id)
        if token is not None:
            params["t"] = token
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        ts = int(time.time()) if timestamp is None else timestamp
        if signature == "auto" and task_id is not None:
            signature = kie_signature(HMAC_KEY, task_id, ts)
        if signature not in (None, "auto"):
            hdrs["X-Webhook-Timestamp"] = str(ts)
            hdrs["X-Webhook-Signature"] = signature
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(
            f"{self.url}/kie/callback/{workflow_id}", params=params, data=data, headers=hdrs
        ) as response:
            return response.status, await response.json(content_type=None)

    async def waiting_generation(self) -> WorkflowHandle:
        request = GenerationRequest(
            user_id=7, chat_id=7, request_key=uuid.uuid4().hex[:10], model_id=MODEL, inputs={"prompt": "x"}
        )
        handle = await start_generation(self.client, request, task_queue=self.queue)
        await row_for(self.generations, handle.id)  # the fake validation writes none; production's does
        for _ in range(300):
            if (await handle.query(GenerationWorkflow.status)).stage == Stage.WAITING:
                return handle
            await asyncio.sleep(0.02)
        raise AssertionError("the generation never reached the waiting stage")


async def row_for(generations: Generations, workflow_id: str) -> None:
    await generations.create(
        workflow_id, 7, 7, MODEL, "text-to-image", {"prompt": "x"}, price=1, free=False, language="en"
    )


def callback_body(task_id: str, state: str = "success") -> dict:
    return {
        "code": 200,
        "msg": "ok",
        "data": {
            "taskId": task_id,
            "state": state,
            "resultJson": json.dumps({"resultUrls": ["https://x/y.png"]}),
        },
    }


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def harness(temporal_dev: WorkflowEnvironment, db_pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    world = FakeWorld(client=temporal_dev.client)
    queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    config = WebhookConfig(callback_secret=SECRET, kie_hmac_key=HMAC_KEY, max_body_bytes=64 * 1024)
    runner, url = await serve(create_app(temporal_dev.client, db_pool, config))
    async with world.running(temporal_dev.client, queue), aiohttp.ClientSession() as http:
        yield Harness(url, http, temporal_dev.client, world, queue, Generations(db_pool))
    await runner.cleanup()


async def test_valid_callback_signals_and_the_generation_completes(harness: Harness):
    handle = await harness.waiting_generation()
    harness.world.tasks["task-1"].state = "succeeded"
    status, body = await harness.post(handle.id, callback_body("task-1"), task_id="task-1")
    assert (status, body["outcome"]) == (200, "signalled")
    result = await handle.result()
    assert result.task_id == "task-1" and result.charged
    assert (await handle.query(GenerationWorkflow.status)).callbacks_received == 1
    # What the body reported (read by the model's adapter) is in the timeline operators read.
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "KIE called back about task-1: success, 1 file(s)" in metadata.current_details
    # Finished: KIE re-delivering the callback still gets a 200, and nothing moves.
    status, body = await harness.post(handle.id, callback_body("task-1"), task_id="task-1")
    assert (status, body["outcome"]) == (200, "already_finished")
    assert harness.world.kinds() == ["hold", "charge"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing_token", (403, "bad_token")),
        ("wrong_token", (403, "bad_token")),
        ("token_of_another_generation", (403, "bad_token")),
        ("missing_signature", (401, "bad_signature")),
        ("wrong_signature_key", (401, "bad_signature")),
        ("stale_timestamp", (401, "bad_signature")),
        ("signature_for_another_task", (401, "bad_signature")),
        ("malformed_json", (400, "malformed_json")),
        ("json_not_an_object", (400, "malformed_json")),
        ("no_task_id", (400, "no_task_id")),
        ("disagreeing_task_ids", (400, "no_task_id")),
        ("too_large", (413, "too_large")),
    ],
)
async def test_rejected_callbacks_signal_nothing(harness: Harness, case: str, expected: tuple[int, str]):
    handle = await harness.waiting_generation()
    wid, body = handle.id, callback_body("task-1")
    kwargs: dict = {"task_id": "task-1"}
    if case == "missing_token":
        kwargs["token"] = None
    elif case == "wrong_token":
        kwargs["token"] = "x" * 43
    elif case == "token_of_another_generation":
        kwargs["token"] = callback_token(SECRET, "gen-7-other")
    elif case == "missing_signature":
        kwargs["signature"] = None
    elif case == "wrong_signature_key":
        kwargs["signature"] = kie_signature("another-key", "task-1", int(time.time()))
    elif case == "stale_timestamp":
        kwargs["timestamp"] = int(time.time()) - 3600
        kwargs["signature"] = kie_signature(HMAC_KEY, "task-1", kwargs["timestamp"])
    elif case == "signature_for_another_task":
        kwargs["signature"] = kie_signature(HMAC_KEY, "task-2", int(time.time()))
    elif case == "malformed_json":
        kwargs["raw"] = b'{"code": 200, "data": {'
    elif case == "json_not_an_object":
        body = ["task-1"]
    elif case == "no_task_id":
        body = {"code": 200, "data": {"state": "success"}}
    elif case == "disagreeing_task_ids":
        body = {"taskId": "task-1", "code": 200, "data": {"taskId": "task-9"}}
    elif case == "too_large":
        body = {**callback_body("task-1"), "padding": "x" * 70_000}
    status, answer = await harness.post(wid, body, **kwargs)
    assert (status, answer["outcome"]) == expected
    state = await handle.query(GenerationWorkflow.status)
    assert state.callbacks_received == 0 and state.stage == Stage.WAITING
    await handle.terminate("test finished")


async def test_oversized_chunked_body_is_413(harness: Harness):
    handle = await harness.waiting_generation()

    async def chunks():
        for _ in range(20):
            yield b"x" * 8192

    async with harness.http.post(
        f"{harness.url}/kie/callback/{handle.id}",
        params={"t": callback_token(SECRET, handle.id)},
        data=chunks(),
    ) as response:
        assert response.status == 413
    assert (await handle.query(GenerationWorkflow.status)).callbacks_received == 0
    await handle.terminate("test finished")


async def test_unknown_generation_is_404(harness: Harness):
    wid = "gen-7-neverstarted"
    status, body = await harness.post(wid, callback_body("task-1"), task_id="task-1")
    assert (status, body["outcome"]) == (404, "unknown_generation")
    status, _ = await harness.post("not-a-generation", callback_body("task-1"), task_id="task-1")
    assert status == 404


async def test_generation_forgotten_by_temporal_but_in_the_database_is_200(harness: Harness):
    # Temporal forgets closed workflows after retention; the generations row still vouches for the id.
    wid = f"gen-7-{uuid.uuid4().hex[:10]}"
    await row_for(harness.generations, wid)
    status, body = await harness.post(wid, callback_body("task-1"), task_id="task-1")
    assert (status, body["outcome"]) == (200, "already_finished")
    # A URL from before it named the model: a finished row answers 200 without asking Temporal at all.
    await harness.generations.finish(wid, "failed", error_code="timed_out")
    status, body = await harness.post(wid, callback_body("task-1"), task_id="task-1", model=None)
    assert (status, body["outcome"]) == (200, "already_finished")


async def test_a_callback_is_signalled_without_reading_the_database(harness: Harness):
    """The URL names the model: the webhook signals on the token alone (PostgreSQL stays off the path of
    every callback). A generation with no row at all still gets its callback."""
    request = GenerationRequest(
        user_id=7, chat_id=7, request_key=uuid.uuid4().hex[:10], model_id=MODEL, inputs={"prompt": "x"}
    )
    handle = await start_generation(harness.client, request, task_queue=harness.queue)  # no row written
    for _ in range(300):
        if (await handle.query(GenerationWorkflow.status)).stage == Stage.WAITING:
            break
        await asyncio.sleep(0.02)
    harness.world.tasks["task-1"].state = "succeeded"
    status, body = await harness.post(handle.id, callback_body("task-1"), task_id="task-1")
    assert (status, body["outcome"]) == (200, "signalled")
    assert (await handle.result()).charged
    # Without the model in the URL (an older task's callback), the row is what says the generation exists.
    status, body = await harness.post(handle.id, callback_body("task-1"), task_id="task-1", model=None)
    assert (status, body["outcome"]) == (404, "unknown_generation")


async def test_a_callback_url_from_before_the_model_was_in_it_still_signals(harness: Harness):
    handle = await harness.waiting_generation()
    harness.world.tasks["task-1"].state = "succeeded"
    status, body = await harness.post(handle.id, callback_body("task-1"), task_id="task-1", model=None)
    assert (status, body["outcome"]) == (200, "signalled")
    assert (await handle.result()).task_id == "task-1"
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "KIE called back about task-1: success, 1 file(s)" in metadata.current_details


async def test_temporal_unreachable_is_503(db_pool):
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)
    config = WebhookConfig(callback_secret=SECRET)
    runner, url = await serve(create_app(dead, db_pool, config))
    wid = f"gen-7-{uuid.uuid4().hex[:10]}"
    await row_for(Generations(db_pool), wid)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{url}/kie/callback/{wid}",
                params={"t": callback_token(SECRET, wid)},
                json=callback_body("task-1"),
            ) as response:
                assert response.status == 503
            async with http.get(f"{url}/readyz") as response:
                assert response.status == 503
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


async def test_readyz_when_everything_is_up(harness: Harness):
    async with harness.http.get(f"{harness.url}/readyz") as response:
        assert (response.status, (await response.json())["outcome"]) == (200, "ready")


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, {}),  # deep enough to exhaust the JSON parser
        (b'{"taskId": ' + b"9" * 5000 + b"}", {}),  # an integer Python refuses to convert
        (b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}),  # a broken gzip stream
    ],
    ids=["deep_nesting", "huge_int", "bad_gzip"],
)
async def test_unparseable_bodies_are_400_not_5xx(harness: Harness, raw: bytes, headers: dict):
    # A 5xx would make KIE retry a body that can never parse.
    handle = await harness.waiting_generation()
    status, answer = await harness.post(handle.id, None, raw=raw, task_id="task-1", headers=headers)
    assert status == 400 and answer["outcome"] in ("malformed_json", "unreadable_body")
    assert (await handle.query(GenerationWorkflow.status)).callbacks_received == 0
    await handle.terminate("test finished")
