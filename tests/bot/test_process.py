"""`python -m bot` as the launcher runs it: configured by the environment, answers, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from pathlib import Path

from tests.fixtures.system import System

ROOT = Path(__file__).resolve().parents[2]


async def test_the_bot_process_answers_and_stops_cleanly(system: System, only_poller: None):
    env = {**system.stack.env, "LOG_LEVEL": "INFO"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        user_id = int(uuid.uuid4().int % 10**9) + 1000
        async with system.http.post(
            f"{system.telegram}/_sim/users/{user_id}/message", json={"text": "/start"}
        ) as r:
            assert r.status == 200
        for _ in range(300):
            chat = await system.chat(user_id)
            if any(
                "What shall we do?" in (m["text"] or "") for m in chat["messages"] if m["sender"] == "bot"
            ):
                break
            assert process.returncode is None, (await process.stdout.read()).decode()
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the bot process did not answer /start")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), 40)
    output = (await process.stdout.read()).decode()
    assert code == 0, output
    assert "bot stopped" in output and "Traceback" not in output
