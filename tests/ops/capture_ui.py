"""Screenshots of the Temporal UI for docs/runbook.md: `python -m tests.ops.capture_ui [--keep]`.

Brings up the real stack (`genflow.stack.Stack`, Temporal UI on a free port) in a temporary directory, runs
three generations (one delivered, one still waiting on KIE, one failed by KIE) and captures with headless
Chromium (Debian's /usr/bin/chromium driven by playwright) into docs/images/temporal-*.png:

- temporal-list.png                the workflow list filtered by a query, search attributes as columns
- temporal-generation-summary.png  a generation's summary, details and current details (its stage timeline)
- temporal-generation-timeline.png its activities on a timeline, each with its summary
- temporal-generation-history.png  its event history (compact view)
- temporal-generation-waiting.png  the current details of a generation waiting on KIE

``--keep`` leaves the stack running (and prints its URLs) until Ctrl-C, to look around by hand.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import urllib.parse
import uuid
from pathlib import Path

import aiohttp
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from contracts.models import GenerationRequest, Stage
from db import Ledger, create_pool
from genflow.embedded import free_port, wait_for_port
from genflow.settings import Settings
from genflow.stack import Ports, Stack
from workflows.generation import GenerationWorkflow
from workflows.starter import start_generation

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
USER_ID = 424242
MODEL = "google/nano-banana"


async def generate(client: Client, queue: str, prompt: str) -> WorkflowHandle:
    request = GenerationRequest(
        user_id=USER_ID,
        chat_id=USER_ID,
        request_key=uuid.uuid4().hex[:12],
        model_id=MODEL,
        inputs={"prompt": prompt},
    )
    return await start_generation(client, request, task_queue=queue)


async def wait_stage(handle: WorkflowHandle, stage: Stage, within: float = 60) -> None:
    for _ in range(int(within / 0.1)):
        if (await handle.query(GenerationWorkflow.status)).stage == stage:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{handle.id} never reached {stage}")


async def capture_only(ui: str, workflow_id: str) -> None:
    """Against a running stack (``--keep``): ``--ui URL --workflow-id ID``."""
    port = urllib.parse.urlsplit(ui).port
    temporal = os.environ.get("TEMPORAL_ADDRESS") or f"127.0.0.1:{port}"
    client = await Client.connect(temporal, data_converter=pydantic_data_converter)
    waiting = os.environ.get("WAITING_WORKFLOW_ID")
    handle = client.get_workflow_handle(waiting) if waiting else None
    for shot in await capture(ui, client.get_workflow_handle(workflow_id), handle):
        print(f"wrote {shot}")


async def capture(ui: str, done: WorkflowHandle, waiting: WorkflowHandle | None = None) -> list[Path]:
    from playwright.async_api import Page, async_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    async def shot(page: Page, name: str) -> None:
        await page.wait_for_timeout(1200)  # let charts and fonts settle
        shots.append(IMAGES / name)
        await page.screenshot(path=shots[-1])

    async def scroll_to(page: Page, heading: str) -> None:
        await page.get_by_role("heading", name=heading).first.evaluate(
            "e => e.scrollIntoView({block: 'start'})"
        )

    async def tab(page: Page, name: str) -> None:
        await page.get_by_role("tab", name=name).first.click()

    async def open_workflow(page: Page, handle: WorkflowHandle) -> None:
        run_id = (await handle.describe()).run_id
        await page.goto(f"{ui}/namespaces/default/workflows/{handle.id}/{run_id}")
        await page.get_by_role("tab", name="User Metadata").first.wait_for()

    query = urllib.parse.quote(f"WorkflowType = 'GenerationWorkflow' AND TelegramUserId = '{USER_ID}'")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1600, "height": 900})
            page.set_default_timeout(20_000)

            # The list, filtered by a saved query, with the search attributes as columns.
            await page.goto(f"{ui}/namespaces/default/workflows?query={query}")
            await page.get_by_text(done.id).first.wait_for()
            await page.get_by_role("button", name="Configure Columns").click()
            for column in ("Run ID", "Type", "End"):
                await page.get_by_role("button", name=f"Remove {column} column").click()
            for column in ("GenerationStage", "KieModel", "KieTaskId"):
                await page.get_by_role("button", name=f"Add {column} column").click()
            await page.get_by_role("button", name="Close Workflows Table configuration").click()
            await shot(page, "temporal-list.png")

            # One generation: summary, details and the stage timeline (current details).
            await open_workflow(page, done)
            await tab(page, "User Metadata")
            await page.get_by_text("Current Details").first.wait_for()
            await shot(page, "temporal-generation-summary.png")

            # Its activities on a timeline, each with its summary.
            await tab(page, "Timeline")
            await scroll_to(page, "Timeline")
            await shot(page, "temporal-generation-timeline.png")

            # Its event history.
            await tab(page, "Event History")
            await page.get_by_role("button", name="Compact").first.click()
            await scroll_to(page, "Event History")
            await shot(page, "temporal-generation-history.png")

            if waiting is not None:  # a generation waiting on KIE right now
                await open_workflow(page, waiting)
                await tab(page, "User Metadata")
                await page.get_by_text("Current Details").first.wait_for()
                await shot(page, "temporal-generation-waiting.png")
        finally:
            await browser.close()
    return shots


async def main(keep: bool) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="genflow-ui-", dir="/tmp"))
    ports = Ports(free_port(), free_port(), free_port(), free_port(), free_port())
    settings = Settings(_env_file=None, kie_api_key=None, telegram_bot_token=None, callback_secret=None)
    stack = Stack(data_dir, ports=ports, settings=settings, quiet=True)
    await asyncio.to_thread(stack.start)
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", ports.temporal_ui, 30)
        ui = f"http://127.0.0.1:{ports.temporal_ui}"
        client = await Client.connect(f"127.0.0.1:{ports.temporal}", data_converter=pydantic_data_converter)
        pool = await create_pool(stack.database_url, max_size=2)
        ledger = Ledger(pool)
        await ledger.ensure_user(USER_ID, language="en")
        await ledger.credit(USER_ID, 1000, key=f"ui-topup:{uuid.uuid4().hex}", kind="topup", reason="demo")
        async with aiohttp.ClientSession() as http:
            kie = f"http://127.0.0.1:{ports.kie_simulator}/_sim/config"
            async with http.post(kie, json={"slow_latency": 3600}) as response:
                response.raise_for_status()
        queue = settings.temporal_task_queue
        done = await generate(client, queue, "a lighthouse at dawn, oil painting")
        await asyncio.wait_for(done.result(), 90)
        failed = await generate(client, queue, "a storm at sea [sim:fail:500]")
        await asyncio.wait_for(failed.result(), 90)
        waiting = await generate(client, queue, "a harbour at night [sim:slow]")
        await wait_stage(waiting, Stage.WAITING)
        await pool.close()
        if keep:
            print(stack.describe(), flush=True)
            command = f"python -m tests.ops.capture_ui --ui {ui} --workflow-id {done.id}"
            where = f"WAITING_WORKFLOW_ID={waiting.id} TEMPORAL_ADDRESS=127.0.0.1:{ports.temporal}"
            print(f"capture: {where} {command}", flush=True)
            await asyncio.Event().wait()
        for shot in await capture(ui, client.get_workflow_handle(done.id), waiting):
            print(f"wrote {shot}")
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    try:
        if "--ui" in args:
            asyncio.run(capture_only(args[args.index("--ui") + 1], args[args.index("--workflow-id") + 1]))
        else:
            asyncio.run(main("--keep" in args))
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    os._exit(0)
