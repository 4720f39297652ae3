"""`make run`'s entry point, run as a user would: everything comes up, Ctrl-C leaves no process behind,
and a second run finds the balances and workflows of the first."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from contracts.models import GenerationRequest, Outcome
from db import Ledger, create_pool
from genflow.embedded import die_with_parent
from workflows.starter import start_generation

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in {"DATABASE_URL", "KIE_API_KEY", "TELEGRAM_BOT_TOKEN", "CALLBACK_SECRET", "PUBLIC_BASE_URL"}
}


class Launcher:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"launcher-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "genflow.stack", "--data-dir", str(data_dir), "--free-ports"],
            cwd=ROOT,
            env=CLEAN_ENV,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # a test runner killed mid-test takes the stack down with it
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def ready(self, within: float = 90) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            text = self.output()
            if "Press Ctrl-C" in text:
                return text
            assert self.process.poll() is None, f"launcher exited early:\n{text}"
            await asyncio.sleep(0.2)
        raise AssertionError(f"launcher not ready:\n{self.output()}")

    async def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        code = await asyncio.to_thread(self.process.wait, 60)
        self.log.close()
        return code


async def bot_answers_start(telegram: str, user_id: int) -> bool:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{telegram}/_sim/users/{user_id}/message", json={"text": "/start"}) as response:
            assert response.status == 200
        for _ in range(300):
            async with http.get(f"{telegram}/_sim/chats/{user_id}") as response:
                chat = (await response.json())["chat"]
            if any(m["sender"] == "bot" and m["reply_markup"] for m in chat["messages"]):
                return True
            await asyncio.sleep(0.1)
    return False


def processes_using(data_dir: Path) -> list[str]:
    """Command lines of live processes that mention the data directory (postgres, temporal, children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(data_dir) in cmdline and state != "Z":
            found.append(cmdline)
    return found


async def test_run_stop_and_run_again_keeps_state():
    base = Path(tempfile.mkdtemp(prefix="genflow-stack-", dir="/tmp"))
    base.chmod(0o755)
    data_dir = base / "data"
    database_url = f"postgresql://postgres:@/postgres?host={data_dir / 'postgres'}"

    first = Launcher(data_dir)
    text = await first.ready()
    temporal = re.search(r"Temporal frontend\s+(127\.0\.0\.1:\d+)", text).group(1)
    child_pids = [int(pid) for pid in re.findall(r"pid (\d+)", text)]
    assert {"kie-simulator", "telegram-simulator", "worker", "webhooks", "bot"} <= set(
        re.findall(r"^  ([a-z-]+)\s", text, re.M)
    )

    # The bot is part of `make run`: a user writing /start in the local chat gets the menu.
    telegram = re.search(r"telegram-simulator\s+(127\.0\.0\.1:\d+)", text).group(1)
    assert await bot_answers_start(f"http://{telegram}", user_id=1001)

    client = await Client.connect(temporal, data_converter=pydantic_data_converter)
    pool = await create_pool(database_url, min_size=1, max_size=2)
    ledger = Ledger(pool)
    await ledger.ensure_user(77)
    await ledger.credit(77, 100, key="stack-test-topup", kind="topup")
    request = GenerationRequest(
        user_id=77,
        chat_id=77,
        request_key="first-run",
        model_id="google/nano-banana",
        inputs={"prompt": "a lighthouse at dawn"},
    )
    handle = await start_generation(client, request, task_queue="genflow")
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.outcome == Outcome.SUCCEEDED
    await pool.close()

    assert await first.stop(signal.SIGINT) == 0
    assert "Stopped." in first.output()
    for pid in child_pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert processes_using(data_dir) == []

    second = Launcher(data_dir)
    text = await second.ready()
    temporal = re.search(r"Temporal frontend\s+(127\.0\.0\.1:\d+)", text).group(1)
    client = await Client.connect(temporal, data_converter=pydantic_data_converter)
    description = await client.get_workflow_handle(handle.id).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    pool = await create_pool(database_url, min_size=1, max_size=2)
    balance = await Ledger(pool).balance(77)
    assert (balance.balance, balance.held) == (100 - result.price, 0)
    await pool.close()
    assert await second.stop(signal.SIGTERM) == 0
    assert processes_using(data_dir) == []


def run_with_env(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**CLEAN_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_invalid_configuration_is_one_line_and_exit_2():
    for args in (["-m", "genflow.stack"], ["worker.py"], ["-m", "webhooks"]):
        done = run_with_env(args, WEBHOOKS_PORT="eighty", LOG_JSON="perhaps")
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr
        assert lines[0].startswith("genflow: invalid configuration: ")
        assert "WEBHOOKS_PORT" in lines[0] or "LOG_JSON" in lines[0]


def test_missing_required_setting_names_it():
    done = run_with_env(["worker.py"])
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "genflow: invalid configuration: DATABASE_URL: required by this process but not set"
    )


def test_secrets_are_not_echoed():
    done = run_with_env(["worker.py"], KIE_WEBHOOK_WINDOW_SECONDS="0", CALLBACK_SECRET="s3cr3t-value")
    assert done.returncode == 2 and "s3cr3t-value" not in done.stderr
