"""Operations on the real processes (the stack `make run` starts, on free ports): metrics scraped over HTTP,
the KIE credits schedule created by the worker, a worker SIGTERMed mid-activity that drains, and JSON logs
without a single secret in them."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from contracts.ids import KIE_CREDITS_SCHEDULE_ID
from contracts.models import GenerationRequest, GenerationResult, Outcome
from contracts.money import KieCreditsCheck
from db import Ledger, create_pool
from genflow.embedded import free_port, temporal_cli
from genflow.settings import Settings
from genflow.stack import SIMULATED_BOT_TOKEN, SIMULATED_KIE_KEY, Ports, Stack, simulated_settings
from kie.signature import callback_token
from telegram_worker import workers as build_telegram_workers
from tests.fixtures.postgres import create_database
from tests.ops.test_runbook import C_SCHEDULE
from tests.ops.test_webhooks_ops import metric
from workflows.starter import start_generation

ADMIN_ID = 555_000_111


class LoggedStack(Stack):
    """The launcher's stack (quiet: each child logs to <data_dir>/logs/<name>.log)."""

    def child(self, name: str) -> subprocess.Popen:
        process = next(c.process for c in self.children if c.name == name)
        assert process is not None
        return process

    def log_lines(self, name: str) -> list[str]:
        return (self.data_dir / "logs" / f"{name}.log").read_text().splitlines()


@dataclass
class TelegramProxy:
    """Between the worker and the Telegram simulator: passes every call through, and can hold one method for
    a while (a slow Telegram) to keep an activity in flight."""

    upstream: str
    slow_method: str | None = None
    delay: float = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    answered: list[int] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        slow = self.slow_method is not None and request.path.endswith("/" + self.slow_method)
        if slow:
            self.started.set()
            await asyncio.sleep(self.delay)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                request.method,
                self.upstream + request.path_qs,
                data=await request.read(),
                headers=headers,
            ) as upstream,
        ):
            body = await upstream.read()
            if slow:
                self.answered.append(upstream.status)
            return web.Response(status=upstream.status, body=body, content_type=upstream.content_type)


@dataclass
class Ops:
    stack: LoggedStack
    client: Client
    pool: asyncpg.Pool
    http: aiohttp.ClientSession
    proxy: TelegramProxy
    metrics_port: int  # the worker process's Prometheus endpoint
    generation_ids: list[str] = field(default_factory=list)

    async def generate(self, prompt: str = "a lighthouse at dawn") -> GenerationResult:
        user_id = 10_000 + uuid.uuid4().int % 10**8
        ledger = Ledger(self.pool)
        await ledger.ensure_user(user_id, language="en")
        await ledger.credit(user_id, 1000, key=f"ops-topup:{user_id}", kind="topup", reason="test")
        request = GenerationRequest(
            user_id=user_id,
            chat_id=user_id,
            request_key=uuid.uuid4().hex[:12],
            model_id="google/nano-banana",
            inputs={"prompt": prompt},
        )
        handle = await start_generation(
            self.client, request, task_queue=self.stack.settings.temporal_task_queue
        )
        self.generation_ids.append(handle.id)
        return handle

    async def scrape(self, url: str) -> str:
        async with self.http.get(url) as response:
            assert response.status == 200
            return await response.text()


@pytest.fixture(scope="module")
async def ops(pg_server_url: str) -> AsyncIterator[Ops]:
    _, database_url = await create_database(pg_server_url, "ops")
    ports = Ports.free()
    metrics_port = free_port()
    proxy = TelegramProxy(upstream=f"http://127.0.0.1:{ports.telegram_simulator}")
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    proxy_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", proxy_port).start()
    settings = simulated_settings(database_url)
    stack = LoggedStack(
        Path(tempfile.mkdtemp(prefix="genflow-ops-", dir="/tmp")),
        ports=ports,
        settings=settings,
        quiet=True,
        extra_env={
            "LOG_JSON": "true",
            "LOG_LEVEL": "DEBUG",  # the most talkative the processes get: still no secret may show
            "WORKER_METRICS_PORT": str(metrics_port),
            "TELEGRAM_API_BASE": f"http://127.0.0.1:{proxy_port}",
            "ADMIN_IDS": str(ADMIN_ID),
            "KIE_CREDITS_ALERT_THRESHOLD": str(10**9),  # the simulator's 100 000 credits are "low"
        },
    )
    await asyncio.to_thread(stack.start)
    try:
        client = await Client.connect(f"127.0.0.1:{ports.temporal}", data_converter=pydantic_data_converter)
        pool = await create_pool(database_url, max_size=3)
        # The worker is up once it has created the credits schedule (it does so before it polls).
        for _ in range(600):
            try:
                await client.get_schedule_handle(KIE_CREDITS_SCHEDULE_ID).describe()
                break
            except RPCError:
                await asyncio.sleep(0.1)
        async with aiohttp.ClientSession() as http:
            yield Ops(stack, client, pool, http, proxy, metrics_port)
        await pool.close()
    finally:
        await asyncio.to_thread(stack.stop)
        await runner.cleanup()
        if not os.environ.get("GENFLOW_KEEP_TEST_DATA"):
            shutil.rmtree(stack.data_dir, ignore_errors=True)


async def test_the_worker_schedules_the_kie_credits_check_and_it_alerts_admins(ops: Ops):
    env = {**os.environ, "TEMPORAL_ADDRESS": f"127.0.0.1:{ops.stack.ports.temporal}"}
    described = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        C_SCHEDULE.replace("temporal ", f"{temporal_cli()} ", 1) + " --output json",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await described.communicate()
    assert described.returncode == 0
    assert (
        json.loads(out)["schedule"]["action"]["startWorkflow"]["workflowType"]["name"] == "KieCreditsWorkflow"
    )

    schedule = ops.client.get_schedule_handle(KIE_CREDITS_SCHEDULE_ID)
    await schedule.trigger()
    for _ in range(200):
        if actions := (await schedule.describe()).info.recent_actions:
            break
        await asyncio.sleep(0.05)
    run_id = actions[0].action.workflow_id
    check = await ops.client.get_workflow_handle(run_id, result_type=KieCreditsCheck).result()
    assert check.low and check.admins_alerted == 1
    async with ops.http.get(f"{ops.proxy.upstream}/_sim/chats/{ADMIN_ID}") as response:
        chat = (await response.json())["chat"]
    assert any("KIE credits are low" in (m["text"] or "") for m in chat["messages"])
    ops.generation_ids.append(run_id)
    # The check runs on the Telegram worker, which messages the admins.
    lines = ops.stack.log_lines("telegram-worker")
    alerts = [json.loads(line) for line in lines if "kie_credits_low" in line]
    assert alerts and alerts[0]["level"] == "ERROR" and alerts[0]["workflow_id"] == run_id


async def test_worker_and_webhooks_metrics_are_scraped_over_http(ops: Ops):
    handle = await ops.generate()
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.outcome == Outcome.SUCCEEDED and result.delivered
    webhooks = f"http://127.0.0.1:{ops.stack.ports.webhooks}"
    forged = {"t": "not-our-token"}
    async with ops.http.post(f"{webhooks}/kie/callback/{handle.id}", params=forged, json={}) as response:
        assert response.status == 403

    def worker_counted(text: str) -> bool:
        return (
            metric(text, "temporal_workflow_completed", workflow_type="GenerationWorkflow") >= 1
            and metric(text, "temporal_workflow_completed", workflow_type="KieCreditsWorkflow") >= 1
            and metric(text, "temporal_activity_execution_latency_count", activity_type="submit_task")
        )

    def telegram_worker_counted(text: str) -> bool:
        return metric(text, "temporal_activity_execution_latency_count", activity_type="deliver_result") >= 1

    telegram_metrics = f"http://127.0.0.1:{ops.stack.ports.telegram_worker_metrics}/metrics"
    for _ in range(50):  # the SDK counts a completion once the server has acknowledged it: a moment later
        worker = await ops.scrape(f"http://127.0.0.1:{ops.metrics_port}/metrics")
        telegram_worker = await ops.scrape(telegram_metrics)
        if worker_counted(worker) and telegram_worker_counted(telegram_worker):
            break
        await asyncio.sleep(0.1)
    assert worker_counted(worker), worker
    assert telegram_worker_counted(telegram_worker), telegram_worker
    assert "temporal_worker_task_slots_available" in worker

    text = await ops.scrape(f"{webhooks}/metrics")
    route = "/kie/callback/{workflow_id}"
    assert metric(text, "genflow_http_requests_total", route=route, outcome="signalled") >= 1
    assert metric(text, "genflow_http_requests_total", route=route, status="403", outcome="bad_token") == 1
    assert metric(text, "genflow_http_request_duration_seconds_count", route=route) >= 2
    assert metric(text, "genflow_ready", process="webhooks") == 1


async def test_sigterm_drains_the_in_flight_activity_and_the_generation_completes_once(ops: Ops):
    ops.proxy.slow_method, ops.proxy.delay = "sendPhoto", 3.0
    handle = await ops.generate("a harbour at night")
    await asyncio.wait_for(ops.proxy.started.wait(), 60)  # deliver_result is sending the photo now
    worker = ops.stack.child("telegram-worker")
    stopped_at = time.monotonic()
    os.killpg(worker.pid, signal.SIGTERM)
    code = await asyncio.to_thread(worker.wait, 30)
    drained_for = time.monotonic() - stopped_at
    ops.proxy.slow_method = None

    assert code == 0
    assert ops.proxy.answered == [200]  # the slow call was answered, not abandoned
    assert 1.0 < drained_for < 30  # the worker waited for the activity, within its 30 s grace
    # The next Telegram worker (built exactly like telegram_worker.py builds it, in this process to save a
    # start-up) finishes.
    settings = Settings(
        _env_file=None,
        **{
            name: ops.stack.env[name.upper()]
            for name in Settings.model_fields
            if name.upper() in ops.stack.env
        },
    )
    async with build_telegram_workers(settings, ops.client) as (telegram_worker,), telegram_worker:
        result = await asyncio.wait_for(handle.result(), 60)
    assert result.outcome == Outcome.SUCCEEDED and result.delivered and result.charged

    deliveries = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == "deliver_result":
                deliveries.append(event.event_id)
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes = event.activity_task_started_event_attributes
            if attributes.scheduled_event_id in deliveries:
                assert attributes.attempt == 1  # finished during the drain: never retried
    assert len(deliveries) == 1
    movements = await Ledger(ops.pool).recent_movements(int(handle.id.split("-")[1]), limit=10)
    assert sorted(m.kind for m in movements if m.kind != "topup") == ["charge", "hold"]
    user_id = handle.id.split("-")[1]
    async with ops.http.get(f"{ops.proxy.upstream}/_sim/chats/{user_id}") as response:
        chat = (await response.json())["chat"]
    assert len([m for m in chat["messages"] if m["sender"] == "bot" and m["media"]]) == 1


async def test_logs_are_json_lines_with_workflow_ids_and_no_secrets(ops: Ops):
    data = ops.stack.data_dir
    secrets = {
        "callback secret": (data / "secrets" / "callback").read_text().strip(),
        "KIE webhook HMAC key": (data / "secrets" / "kie-webhook-hmac").read_text().strip(),
        "KIE API key": SIMULATED_KIE_KEY,
        "bot token": SIMULATED_BOT_TOKEN,
        "bot token's secret part": SIMULATED_BOT_TOKEN.partition(":")[2],
    }
    callback = secrets["callback secret"]
    for gid in ops.generation_ids:
        secrets[f"callback token of {gid}"] = callback_token(callback, gid)

    entries = []
    for name in ("worker", "telegram-worker", "webhooks"):
        lines = [line for line in ops.stack.log_lines(name) if line.strip()]
        assert lines, f"{name} logged nothing"
        for line in lines:
            entries.append(json.loads(line))  # every line is JSON
            for what, secret in secrets.items():
                assert secret not in line, f"{what} in the {name} log: {line}"
    # The metrics test's generation: run entirely by the worker process.
    generation = next(gid for gid in ops.generation_ids if gid.startswith("gen-"))
    about_it = [e for e in entries if e.get("workflow_id") == generation]
    # From activities (the worker's filter), the workflow itself and the webhooks server alike.
    assert {"activities.kie", "webhooks"} <= {e["logger"] for e in about_it}
    assert any(e.get("activity") == "check_task" for e in about_it)
