"""The whole Genflow stack for tests, benchmarks, chaos runs and fuzzing.

:class:`Harness` owns an embedded PostgreSQL (pgserver, so it can restart it) and a
:class:`genflow.stack.Stack` on free ports in a temporary directory: the Temporal dev server, both simulators,
the worker, the Telegram worker and the webhooks server (and the bot, when asked) as separate processes,
exactly as ``make run`` starts them. It can also wrap a stack someone else started (the ``system`` test
fixture) through :meth:`Harness.attach`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from contracts.models import GenerationRequest
from contracts.queues import kie_task_queue, telegram_task_queue
from contracts.routes import kie_callback_url
from db import Ledger, create_pool
from genflow.embedded import free_port
from genflow.stack import Ports, Stack, simulated_settings
from kie.signature import callback_token, kie_signature
from testkit.link import Link
from testkit.memory import rss_mb
from testkit.postgres import Postgres
from workflows.starter import start_generation


# ---- the stack --------------------------------------------------------------------------------------------
@dataclass
class Harness:
    stack: Stack
    client: Client
    pool: asyncpg.Pool
    http: aiohttp.ClientSession
    postgres: Postgres | None = None
    owned: bool = False
    users: list[int] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)  # replica name -> the cuttable link nginx uses

    # -- lifecycle ------------------------------------------------------------------------------------------
    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        *,
        prefix: str = "genflow-bench-",
        kie_rate_limit_per_second: int = 100_000,
        kie_rate_limit: tuple[int, float] | None = None,
        telegram_rate_limit_per_second: float = 100_000,
        extra_env: dict[str, str] | None = None,
        keep: bool = False,
        temporal_in_memory: bool = False,
        processes: tuple[str, ...] = ("worker", "telegram-worker", "webhooks"),
        database_url: str | None = None,
        replicas: int = 1,
        links: tuple[str, ...] = (),
    ) -> AsyncIterator[Harness]:
        """A fresh stack in a temporary directory, with its own PostgreSQL; everything stopped on exit.

        KIE's account limit (KIE_RATE_LIMIT_TASKS per KIE_RATE_LIMIT_PERIOD_SECONDS, 20 per 10 s by default)
        throttles the submit queue server-side; benchmarks raise it to ``kie_rate_limit_per_second``.
        ``Stack`` only forwards some settings to its children, so it goes through the environment.

        Telegram's bot-wide limit (TELEGRAM_RATE_LIMIT_PER_SECOND, 30 by default) is raised the same way.

        ``kie_rate_limit`` (tasks, period seconds) sets KIE's real shape instead, e.g. (20, 10.0); the KIE
        simulator then enforces it per key too.

        ``temporal_in_memory`` runs the Temporal dev server without its SQLite file (``make run`` keeps one in
        ``.data/``): on this class of machine the file's writes cap the dev server at a few workflows a
        second, which would measure SQLite rather than Genflow. Floors always share the server under test.

        ``replicas`` > 1: that many of each process (``worker-1``, ``worker-2``…), the webhooks servers and
        the bots (in webhook mode) behind nginx on the webhooks port (``Stack.replicas``); ``links``: replicas
        (e.g. ``bot-1``) nginx reaches through a :class:`Link` the test can cut (``harness.links``).
        """
        data_dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        os.chmod(data_dir, 0o755)  # pgserver runs postgres as another user when we are root
        # A database of someone else's server (tests), or a PostgreSQL of our own that chaos can restart.
        postgres = None if database_url else await asyncio.to_thread(Postgres, data_dir / "postgres")
        tasks, period = kie_rate_limit or (kie_rate_limit_per_second, 1.0)
        settings = simulated_settings(
            database_url or (postgres.url if postgres else None),
            kie_rate_limit_tasks=tasks,
            kie_rate_limit_period_seconds=period,
        )
        env = {
            "KIE_RATE_LIMIT_TASKS": str(tasks),
            "KIE_RATE_LIMIT_PERIOD_SECONDS": str(period),
            "TELEGRAM_RATE_LIMIT_PER_SECOND": str(telegram_rate_limit_per_second),
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        quiet = not os.environ.get("BENCH_VERBOSE")
        stack = Stack(
            data_dir,
            ports=Ports.free(),
            settings=settings,
            quiet=quiet,
            extra_env=env,
            processes=processes,
            replicas=replicas,
        )
        cuttable = {name: Link(free_port(), _port_of(stack, name)) for name in links}
        stack.via = {name: link.port for name, link in cuttable.items()}
        try:
            for link in cuttable.values():
                await link.start()
            await asyncio.to_thread(_start_stack, stack, temporal_in_memory)
            async with cls.attach(stack, owned=True) as harness:
                harness.postgres = postgres
                harness.links = cuttable
                await harness.wait_worker()
                if "bot" in processes:
                    await harness.wait_bot()
                yield harness
        finally:
            await asyncio.to_thread(stack.stop)
            for link in cuttable.values():
                await link.stop()
            if postgres is not None:
                await asyncio.to_thread(postgres.close)
            if not keep and not os.environ.get("GENFLOW_KEEP_STACK"):  # kept: its logs, for a post-mortem
                shutil.rmtree(data_dir, ignore_errors=True)

    @classmethod
    @contextlib.asynccontextmanager
    async def attach(cls, stack: Stack, *, owned: bool = False) -> AsyncIterator[Harness]:
        client = await Client.connect(
            f"127.0.0.1:{stack.ports.temporal}", data_converter=pydantic_data_converter
        )
        pool = await create_pool(stack.database_url, min_size=1, max_size=10)
        connector = aiohttp.TCPConnector(limit=200)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                yield cls(stack, client, pool, http, owned=owned)
        finally:
            await pool.close()

    async def wait_worker(self, within: float = 60) -> None:
        """Until both worker processes poll their task queues (they take a few seconds to import and connect).

        Pollers stay listed for a while after their process died, so this looks for the current worker's pid
        in the poller identity (the SDK's default identity is ``<pid>@<host>``).
        """
        deadline = time.monotonic() + within
        activity = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
        for process, queue, kind in (
            ("worker", self.task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
            ("worker", kie_task_queue(self.task_queue), activity),
            ("telegram-worker", telegram_task_queue(self.task_queue), activity),
        ):
            for name in self.replicas_of(process):
                identity = f"{self.pid(name)}@"
                while True:
                    try:
                        answer = await self.client.workflow_service.describe_task_queue(
                            DescribeTaskQueueRequest(
                                namespace=self.client.namespace,
                                task_queue=TaskQueue(name=queue),
                                task_queue_type=kind,
                            )
                        )
                    except RPCError:
                        pass  # the Temporal server restarting (chaos): ask again, until the deadline
                    else:
                        if any(p.identity.startswith(identity) for p in answer.pollers):
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} does not poll {queue} after {within} s")
                    await asyncio.sleep(0.1)

    async def wait_bot(self, within: float = 60) -> None:
        """Until the bot long-polls the Telegram simulator, or every replica (webhook mode) set the webhook:
        their start-up calls are done by then."""
        deadline = time.monotonic() + within
        bots = self.replicas_of("bot")
        while True:
            if self.stack.replicas == 1:
                if await self.telegram_calls("getUpdates"):
                    return
            elif len(await self.telegram_calls("setWebhook")) >= len(bots):
                return
            if time.monotonic() > deadline or not all(self.alive(name) for name in bots):
                raise TimeoutError("the bot never started")
            await asyncio.sleep(0.1)

    async def wait_ready(self, name: str, within: float = 90) -> None:
        """Until a replica serves: a worker polls its queues; a webhooks server or bot answers /readyz 200
        (listening is not serving: the webhooks server answers 503 until Temporal and PostgreSQL answer)."""
        if name.startswith(("worker", "telegram-worker")):
            await self.wait_worker(within)
            return
        child = next(c for c in self.stack.children if c.name == name)
        deadline = time.monotonic() + within
        while True:
            try:
                async with self.http.get(f"http://127.0.0.1:{child.port}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {within} s")
            await asyncio.sleep(0.1)

    # -- addresses and secrets -----------------------------------------------------------------------------
    @property
    def kie(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports.kie_simulator}"

    @property
    def telegram(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports.telegram_simulator}"

    @property
    def webhooks(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports.webhooks}"

    @property
    def task_queue(self) -> str:
        return self.stack.settings.temporal_task_queue

    def secret(self, name: str) -> str:
        return self.stack.env[
            {"callback": "CALLBACK_SECRET", "kie-webhook-hmac": "KIE_WEBHOOK_HMAC_KEY"}[name]
        ]

    def callback_url(self, workflow_id: str, *, token: str | None = None, model_id: str | None = None) -> str:
        """The URL the KIE activity gives KIE for this generation (with its model when given)."""
        token = token if token is not None else callback_token(self.secret("callback"), workflow_id)
        return kie_callback_url(self.webhooks, workflow_id, token, model_id)

    def signed_headers(self, task_id: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        key = self.secret("kie-webhook-hmac")
        return {"X-Webhook-Timestamp": str(ts), "X-Webhook-Signature": kie_signature(key, task_id, ts)}

    # -- processes -----------------------------------------------------------------------------------------
    def replicas_of(self, process: str) -> list[str]:
        """The children running ``process``: itself, or its replicas ``<process>-1``, ``<process>-2``…, in
        order (a restarted child moves to the end of ``stack.children``)."""
        names = [c.name for c in self.stack.children]
        ours = [n for n in names if n.startswith(f"{process}-") and n[len(process) + 1 :].isdigit()]
        return [process] if process in names else sorted(ours, key=lambda n: int(n.rsplit("-", 1)[1]))

    def pid(self, name: str) -> int:
        child = next(c for c in self.stack.children if c.name == name)
        assert child.process is not None
        return child.process.pid

    def alive(self, name: str) -> bool:
        child = next((c for c in self.stack.children if c.name == name), None)
        return child is not None and child.process is not None and child.process.poll() is None

    def rss_mb(self, name: str) -> float:
        return rss_mb(self.pid(name))

    # -- simulators ----------------------------------------------------------------------------------------
    async def kie_config(self, **patch: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.kie}/_sim/config", json=patch) as response:
            body = await response.json()
            assert response.status == 200, body
            return body

    async def kie_get(self, path: str) -> Any:
        async with self.http.get(f"{self.kie}{path}") as response:
            return await response.json()

    async def kie_task(self, task_id: str) -> dict[str, Any] | None:
        async with self.http.get(f"{self.kie}/_sim/tasks/{task_id}") as response:
            return await response.json() if response.status == 200 else None

    async def wait_kie_final(self, task_id: str, within: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            task = await self.kie_task(task_id)
            if task and task.get("final"):
                return task
            await asyncio.sleep(0.01)
        raise TimeoutError(f"KIE task {task_id} not final after {within} s")

    async def telegram_post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.post(f"{self.telegram}{path}", json=body or {}) as response:
            result = await response.json()
            assert response.status == 200, result
            return result

    async def telegram_get(self, path: str, **params: Any) -> Any:
        async with self.http.get(f"{self.telegram}{path}", params=params) as response:
            return await response.json()

    async def telegram_calls(self, method: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after}
        if method:
            params["method"] = method
        return (await self.telegram_get("/_sim/calls", **params))["calls"]

    # -- users and generations ------------------------------------------------------------------------------
    async def new_user(self, credits: int = 10_000, user_id: int | None = None) -> int:
        user_id = user_id or int(uuid.uuid4().int % 10**9) + 10_000
        ledger = Ledger(self.pool)
        await ledger.ensure_user(user_id, language="en")
        if credits:
            await ledger.credit(user_id, credits, key=f"bench-topup:{user_id}", kind="topup", reason="bench")
        self.users.append(user_id)
        return user_id

    async def generate(self, user_id: int, model_id: str, inputs: dict[str, Any], key: str | None = None):
        request = GenerationRequest(
            user_id=user_id,
            chat_id=user_id,
            request_key=key or uuid.uuid4().hex[:16],
            model_id=model_id,
            inputs=inputs,
        )
        return await start_generation(self.client, request, task_queue=self.task_queue)

    async def count(self, query: str) -> int:
        return (await self.client.count_workflows(query)).count

    async def wait_closed(self, ids: list[str], *, within: float) -> dict[str, WorkflowExecutionDescription]:
        """Until every one of these workflows has closed (or ``within`` passed): the closed ones'
        descriptions. A describe the server cannot answer (restarting) is tried again on the next round."""
        deadline = time.monotonic() + within
        closed: dict[str, WorkflowExecutionDescription] = {}
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for workflow_id in list(pending):
                try:
                    description = await self.client.get_workflow_handle(workflow_id).describe()
                except RPCError:
                    continue
                if description.status != WorkflowExecutionStatus.RUNNING:
                    pending.discard(workflow_id)
                    closed[workflow_id] = description
            if pending:
                await asyncio.sleep(1.0)
        return closed

    async def wait_count(self, query: str, target: int, *, within: float, every: float = 0.5) -> int:
        deadline = time.monotonic() + within
        n = await self.count(query)
        while n < target and time.monotonic() < deadline:
            await asyncio.sleep(every)
            n = await self.count(query)
        return n


def _port_of(stack: Stack, name: str) -> Callable[[], int]:
    def port() -> int:
        child = next(c for c in stack.children if c.name == name)
        assert child.port is not None
        return child.port

    return port


def _start_stack(stack: Stack, temporal_in_memory: bool) -> None:
    if not temporal_in_memory:
        stack.start()
        return
    import genflow.stack as stack_module

    original = stack_module.start_temporal

    def without_file(_db_file: Path | None, **kwargs: Any):
        return original(None, **kwargs)

    stack_module.start_temporal = without_file
    try:
        stack.start()
    finally:
        stack_module.start_temporal = original
