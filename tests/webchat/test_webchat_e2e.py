"""What a new user does after `make run`, in a real headless Chromium: open the local chat, /start, pick a
model, type a prompt, Generate — and see the image, produced by the real bot, worker and Temporal workflow
(KIE and Telegram simulated). Runs the same stack `make run` starts, on free ports."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from catalog import get_catalog
from db import Generations, Ledger, check_invariant, create_pool
from genflow.stack import Ports, Stack, simulated_settings
from tests.fixtures.postgres import create_database
from tests.webchat.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

USER = 1001
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
async def stack(pg_server_url: str) -> AsyncIterator[tuple[Stack, asyncpg.Pool]]:
    _, database_url = await create_database(pg_server_url, "webchat")
    settings = simulated_settings(database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="genflow-webchat-", dir="/tmp"))
    running = Stack(
        data_dir,
        ports=Ports.free(),
        settings=settings,
        quiet=True,
        processes=("worker", "telegram-worker", "webhooks", "bot"),
        # A browser robot clicks faster than a person: the flood limit would (rightly) slow it down.
        extra_env={"BOT_FLOOD_BURST": "50", "BOT_FLOOD_RATE_PER_SECOND": "20"},
    )
    await asyncio.to_thread(running.start)
    pool = await create_pool(database_url, max_size=2)
    try:
        yield running, pool
    finally:
        await pool.close()
        await asyncio.to_thread(running.stop)


async def test_a_new_user_generates_an_image_in_the_local_chat(stack, tmp_path: Path):
    playwright_api = _require_browser()
    running, pool = stack
    ledger = Ledger(pool)
    await ledger.ensure_user(USER, language="en")
    await ledger.credit(USER, 100, key="webchat-e2e-topup", kind="topup", reason="test")
    catalog = get_catalog()
    model = catalog.get("google/nano-banana")
    url = f"http://127.0.0.1:{running.ports.telegram_simulator}/chat?user={USER}&name=Ann&lang=en"

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 1000})
            page.set_default_timeout(30_000)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            await page.goto(url)
            await page.wait_for_selector("body[data-ready='true']")

            async def press(selector: str) -> None:
                # The newest message's button: older messages keep theirs, as in Telegram.
                await page.locator(selector).last.click()

            await page.get_by_role("button", name="/start").click()
            await page.locator(".row.bot .kbd-button", has_text="Create").last.wait_for()
            await press(".kbd-button:has-text('Create')")
            await press(f".kbd-button:has-text('{catalog.format(model.format).title['en']}')")
            await press(f".kbd-button[data-data='c:m:{model.code}']")
            await press(f".kbd-button[data-data='c:s:{model.code}']")
            await page.locator("#text").fill("a lighthouse at dawn, oil painting")
            await page.get_by_role("button", name="Send").click()
            await page.locator(".kbd-button[data-data$=':go']").last.wait_for()
            await press(".kbd-button[data-data$=':go']")
            await page.locator(".kbd-button[data-data^='g:']").last.wait_for()
            await press(".kbd-button[data-data^='g:']")

            # The status message is edited while the workflow runs; then the image arrives.
            photo = page.locator(".row.bot img.photo").last
            await photo.wait_for(timeout=90_000)
            await page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=await photo.element_handle()
            )
            await page.screenshot(path=str(tmp_path / "generated.png"))
            assert problems == []
        finally:
            await browser.close()

    [record] = await Generations(pool).recent_for_user(USER, limit=5)
    assert record.model_id == model.id and record.status == "succeeded" and record.telegram_file_ids
    balance = await ledger.balance(USER)
    assert (balance.balance, balance.held) == (100 - record.price, 0)
    assert await check_invariant(pool) == []
