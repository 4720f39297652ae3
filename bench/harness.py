"""The whole Genflow stack for benchmarks, chaos runs and fuzzing, plus the helpers they share.

:class:`Harness` owns an embedded PostgreSQL (pgserver, so it can restart it) and a
:class:`genflow.stack.Stack` on free ports in a temporary directory: the Temporal dev server, both simulators,
the worker, the Telegram worker and the webhooks server (and the bot, when asked) as separate processes,
exactly as ``make run`` starts them. It can also wrap a stack someone else started (the ``system`` test
fixture) through :meth:`Harness.attach`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from contracts.models import GenerationRequest
from contracts.queues import kie_task_queue, telegram_task_queue
from db import Ledger, create_pool
from genflow.stack import Ports, Stack, simulated_settings
from kie.signature import callback_token, kie_signature
from workflows.starter import start_generation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


# ---- PostgreSQL that can be restarted ---------------------------------------------------------------------
class Postgres:
    """pgserver in ``data_dir``; :meth:`restart` stops and starts it on the same socket (same URL)."""

    def __init__(self, data_dir: Path) -> None:
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(data_dir, cleanup_mode="stop")
        self.url = self.server.get_uri()
        self.down_since: float | None = None

    def _pg_ctl(self, args: list[str]) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        self.down_since = time.time()
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def start(self) -> None:
        from pgserver.utils import PostmasterInfo

        socket_dir = self.server.get_postmaster_info().socket_dir
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.server.log), "start"])
        self.server._postmaster_info = PostmasterInfo.read_from_pgdata(self.server.pgdata)
        self.down_since = None

    def restart(self, down_seconds: float = 2.0) -> tuple[float, float]:
        """Stop (fast shutdown: open connections are cut), wait, start; returns the (down, up) wall times."""
        self.stop()
        down = time.time()
        time.sleep(down_seconds)
        self.start()
        return down, time.time()

    def close(self) -> None:
        self.server.cleanup()


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
            data_dir, ports=Ports.free(), settings=settings, quiet=quiet, extra_env=env, processes=processes
        )
        try:
            await asyncio.to_thread(_start_stack, stack, temporal_in_memory)
            async with cls.attach(stack, owned=True) as harness:
                harness.postgres = postgres
                await harness.wait_worker()
                if "bot" in processes:
                    await harness.wait_bot()
                yield harness
        finally:
            await asyncio.to_thread(stack.stop)
            if postgres is not None:
                await asyncio.to_thread(postgres.close)
            if not keep:
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
            if not any(c.name == process for c in self.stack.children):
                continue
            identity = f"{self.pid(process)}@"
            while True:
                answer = await self.client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=self.client.namespace,
                        task_queue=TaskQueue(name=queue),
                        task_queue_type=kind,
                    )
                )
                if any(p.identity.startswith(identity) for p in answer.pollers):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no worker polls {queue} after {within} s")
                await asyncio.sleep(0.1)

    async def wait_bot(self, within: float = 60) -> None:
        """Until the bot long-polls the Telegram simulator (its start-up calls are done by then)."""
        deadline = time.monotonic() + within
        while not await self.telegram_calls("getUpdates"):
            if time.monotonic() > deadline or not self.alive("bot"):
                raise TimeoutError("the bot never started polling")
            await asyncio.sleep(0.1)

    def cpu(self) -> CpuShare:
        """Start counting CPU time (ours by process, and everyone else's) from now."""
        roots = []
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                roots.append(self.postgres.server.get_pid())
        return CpuShare(roots)

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

    def callback_url(self, workflow_id: str, *, token: str | None = None) -> str:
        token = token if token is not None else callback_token(self.secret("callback"), workflow_id)
        return f"{self.webhooks}/kie/callback/{workflow_id}?t={token}"

    def signed_headers(self, task_id: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        key = self.secret("kie-webhook-hmac")
        return {"X-Webhook-Timestamp": str(ts), "X-Webhook-Signature": kie_signature(key, task_id, ts)}

    # -- processes -----------------------------------------------------------------------------------------
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

    async def wait_count(self, query: str, target: int, *, within: float, every: float = 0.5) -> int:
        deadline = time.monotonic() + within
        n = await self.count(query)
        while n < target and time.monotonic() < deadline:
            await asyncio.sleep(every)
            n = await self.count(query)
        return n


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


# ---- measurements
def rss_mb(pid: int) -> float:
    """Resident set size of one process, from /proc (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def percentile(values: Iterable[float], p: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    if len(data) == 1:
        return data[0]
    # Linear interpolation between closest ranks (numpy's default).
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
    }


# ---- histories --------------------------------------------------------------------------------------------
# What this project counts as a billable action in a history (Temporal Cloud's categories that leave events):
# the start, every activity attempt (retries included), signals, timers, search-attribute upserts, property
# changes, markers (local activities, side effects, patches) and accepted updates. Heartbeats are billed too
# but leave no event; queries leave none either.
ACTION_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow_started",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upsert_search_attributes",
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: "properties_modified",
    EventType.EVENT_TYPE_MARKER_RECORDED: "marker",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
}


def count_actions(history: WorkflowHistory) -> dict[str, int]:
    """Billable actions of one history by kind (see ACTION_EVENTS); activities count every attempt."""
    counts: dict[str, int] = {}
    attempts: dict[int, int] = {}  # scheduled event id -> attempts seen
    for event in history.events:
        kind = ACTION_EVENTS.get(event.event_type)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attempts[event.event_id] = 1
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            attempts[attrs.scheduled_event_id] = max(1, attrs.attempt)
    counts["activity_attempts"] = sum(attempts.values())
    counts["total"] = sum(counts.values())
    return counts


def activity_names(history: WorkflowHistory, *, after_signal: bool = False) -> list[str]:
    """Activities run, in order, local ones included (their markers name them); ``after_signal`` keeps only
    those after the first signal. The floor runs this many no-op activities: the issue's "same number"."""
    names: list[str] = []
    seen_signal = not after_signal
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            seen_signal = True
        elif seen_signal and event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif seen_signal and event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                names.append(f"{_local_activity_type(marker)} (local)")
    return names


def _local_activity_type(marker: Any) -> str:
    with contextlib.suppress(Exception):
        return json.loads(marker.details["data"].payloads[0].data)["activity_type"]
    return "?"


def event_census(history: WorkflowHistory) -> dict[str, int]:
    census: dict[str, int] = {}
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
        census[name] = census.get(name, 0) + 1
    return census


# ---- reports
def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    temporal = "unknown"
    with contextlib.suppress(Exception):
        from genflow.embedded import temporal_cli

        temporal = subprocess.run(
            [temporal_cli(), "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    import temporalio

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "temporal_cli": temporal,
    }


def write_results(kind: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-{kind}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


@dataclass
class Check:
    """One line of a chaos or fuzz report."""

    name: str
    status: str  # PASS, FAIL or SKIPPED
    detail: str


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "FAIL"]


def print_checks(title: str, checks: list[Check]) -> None:
    print_table(title, ["check", "result", "detail"], [[c.name, c.status, c.detail] for c in checks])


def buttons(message: dict[str, Any]) -> list[str]:
    """The callback data of a simulator message's inline keyboard (its markup may be a JSON string)."""
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        with contextlib.suppress(ValueError):
            markup = json.loads(markup)
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [b["callback_data"] for row in rows for b in row if isinstance(b, dict) and "callback_data" in b]


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(f"\n{title}", flush=True)
    print(line)
    for index, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print(line)
    print(line, flush=True)


def python() -> str:
    return sys.executable


# ---- helper processes
@contextlib.contextmanager
def child_process(args: list[str], *, ready_line: str | None = None, port: int | None = None):
    """A helper process of ours (floor worker, floor webhook) in its own session; stopped on exit."""
    from genflow.embedded import stop_process, wait_for_port

    process = subprocess.Popen(
        [python(), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE if ready_line else subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_VERBOSE") else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        if ready_line:
            assert process.stdout is not None
            line = process.stdout.readline()
            if ready_line not in line:
                raise RuntimeError(f"{args}: expected {ready_line!r}, got {line!r}")
        if port is not None:
            wait_for_port("127.0.0.1", port, timeout=30, process=process)
        yield process
    finally:
        stop_process(process)


# ---- who else is using the machine
class CpuShare:
    """CPU time used on this machine while a phase ran: by our processes, and by everyone else.

    Benchmarks on a shared 2-core machine are only as good as the CPU they got; every phase records the
    share of the machine other people's processes took, so a figure measured next to someone's test run is
    flagged instead of silently wrong. Ours are this process's descendants and the PostgreSQL we started.
    """

    def __init__(self, extra_roots: Iterable[int] = ()) -> None:
        self.roots = {os.getpid(), *extra_roots}
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start_wall = time.monotonic()
        self.start = self._snapshot()

    @staticmethod
    def _processes() -> dict[int, tuple[int, int]]:
        table: dict[int, tuple[int, int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rfind(")") + 2 :].split()
            # fields[1] = ppid; fields[11..14] = utime, stime, cutime, cstime
            table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        return table

    def _snapshot(self) -> dict[int, tuple[bool, int]]:
        table = self._processes()
        ours: dict[int, bool] = {}

        def is_ours(pid: int) -> bool:
            seen = []
            while pid > 1 and pid not in ours:
                if pid in self.roots:
                    ours[pid] = True
                    break
                seen.append(pid)
                pid = table.get(pid, (0, 0))[0]
            result = ours.get(pid, False)
            for p in seen:
                ours[p] = result
            return result

        return {pid: (is_ours(pid), ticks) for pid, (_, ticks) in table.items()}

    def result(self) -> dict[str, Any]:
        end = self._snapshot()
        wall = time.monotonic() - self.start_wall
        used = {True: 0, False: 0}
        by_process: dict[str, float] = {}
        for pid, (mine, ticks) in end.items():
            before = self.start.get(pid, (mine, 0))[1]
            spent = max(0, ticks - before)
            used[mine] += spent
            if mine and spent:
                name = _process_name(pid)
                by_process[name] = by_process.get(name, 0.0) + spent / self.tick
        cores = os.cpu_count() or 1
        ours, others = used[True] / self.tick, used[False] / self.tick
        return {
            "wall_s": round(wall, 1),
            "our_cpu_s": round(ours, 1),
            "other_cpu_s": round(others, 1),
            "others_share_of_machine": round(others / max(wall * cores, 1e-9), 3),
            "our_cpu_s_by_process": {
                k: round(v, 1) for k, v in sorted(by_process.items(), key=lambda kv: -kv[1]) if v >= 0.1
            },
        }


def _process_name(pid: int) -> str:
    """A short name for one of our processes: worker, webhooks, temporal, postgres, bench, floor, ..."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "exited"
    words = [a.decode(errors="replace") for a in args if a]
    text = " ".join(words)
    for needle, name in (
        ("telegram_worker.py", "telegram-worker"),  # before worker.py, which it contains
        ("worker.py", "worker"),
        ("-m webhooks", "webhooks"),
        ("simulators.kie", "kie-simulator"),
        ("simulators.telegram", "telegram-simulator"),
        ("bench.floor_webhook", "floor-webhook"),
        ("bench.floor", "floor-worker"),
        ("temporal server", "temporal-server"),
        ("postgres", "postgres"),
    ):
        if needle in text:
            return name
    return "bench" if pid == os.getpid() else (Path(words[0]).name if words else "?")
