"""The webhooks process for operators: listening before it is connected (503 until ready), and its
Prometheus metrics over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg
from temporalio.testing import WorkflowEnvironment

from genflow.embedded import free_port, start_temporal, stop_process, wait_for_port
from kie.signature import callback_token
from tests.webhooks.test_callback_endpoint import serve
from webhooks.app import Backends, WebhookConfig, create_app

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ops-callback-secret"
WID = "gen-7-opsreadiness"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with http.get(url) as response:
        return response.status, await response.json(content_type=None)


async def post_callback(http: aiohttp.ClientSession, base: str, workflow_id: str = WID) -> tuple[int, dict]:
    params = {"t": callback_token(SECRET, workflow_id)}
    body = {"code": 200, "data": {"taskId": "t-1", "state": "success"}}
    async with http.post(f"{base}/kie/callback/{workflow_id}", params=params, json=body) as response:
        return response.status, await response.json(content_type=None)


async def test_not_ready_until_connected_then_ready_and_counted(
    temporal_dev: WorkflowEnvironment, db_pool: asyncpg.Pool
):
    backends = Backends()
    app = create_app(None, None, WebhookConfig(callback_secret=SECRET), backends=backends)
    runner, base = await serve(app)
    try:
        async with aiohttp.ClientSession() as http:
            assert (await get(http, f"{base}/healthz"))[0] == 200
            assert await get(http, f"{base}/readyz") == (503, {"ok": False, "outcome": "starting"})
            assert (await post_callback(http, base))[1]["outcome"] == "starting"

            backends.connected(temporal_dev.client, db_pool)
            assert await get(http, f"{base}/readyz") == (200, {"ok": True, "outcome": "ready"})
            status, body = await post_callback(http, base)  # a valid token for a generation that never was
            assert (status, body["outcome"]) == (404, "unknown_generation")
            async with http.get(f"{base}/no/such/route") as response:
                assert response.status == 404

            backends.stop()
            assert (await get(http, f"{base}/readyz"))[1]["outcome"] == "stopping"

            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200 and response.content_type == "text/plain"
                text = await response.text()
    finally:
        await runner.cleanup()

    route = "/kie/callback/{workflow_id}"
    name = "genflow_http_requests_total"
    assert metric(text, name, route=route, status="503", outcome="starting") == 1
    assert metric(text, name, route=route, status="404", outcome="unknown_generation") == 1
    assert metric(text, name, route="/readyz", outcome="ready") == 1
    assert metric(text, name, route="unmatched", status="404", outcome="4xx") == 1
    assert metric(text, "genflow_http_request_duration_seconds_count", route=route, method="POST") == 2
    assert metric(text, "genflow_ready", process="webhooks") == 0  # stopping
    assert "process_cpu_seconds_total" in text


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


async def test_the_process_listens_first_and_becomes_ready_when_temporal_comes_up(migrated_database_url: str):
    temporal_port, port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_database_url,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",  # nothing listens there yet
        "CALLBACK_SECRET": SECRET,
        "WEBHOOKS_PORT": str(port),
        "LOG_JSON": "true",
    }
    process = spawn([sys.executable, "-m", "webhooks"], env)
    temporal = None
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 30, process)
        async with aiohttp.ClientSession() as http:
            assert (await get(http, f"{base}/healthz"))[0] == 200
            assert await get(http, f"{base}/readyz") == (503, {"ok": False, "outcome": "starting"})
            assert await post_callback(http, base) == (503, {"ok": False, "outcome": "starting"})

            temporal = await asyncio.to_thread(start_temporal, None, port=temporal_port, ui_port=None)
            deadline = time.monotonic() + 20
            while (await get(http, f"{base}/readyz"))[0] != 200:
                assert time.monotonic() < deadline, "webhooks never became ready"
                await asyncio.sleep(0.1)
            assert (await post_callback(http, base))[1]["outcome"] == "unknown_generation"
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = await asyncio.to_thread(process.communicate, timeout=20)
        assert process.returncode == 0, output.decode()
        messages = [json.loads(line)["msg"] for line in output.decode().splitlines() if line.strip()]
        assert any("not reachable yet" in m for m in messages)
        assert "connected to Temporal and PostgreSQL: ready" in messages
    finally:
        stop_process(process)
        if temporal is not None:
            stop_process(temporal)
