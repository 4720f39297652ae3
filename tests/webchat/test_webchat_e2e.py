"""What a new user does after `make run`, in a real headless Chromium: open the local chat, /start, pick a
model, type a prompt, Generate — and see the image, produced by the real bot, worker and Temporal workflow
(KIE and Telegram simulated). Runs the same stack `make run` starts, on free ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import get_catalog
from db import Generations, Ledger, check_invariant
from tests.webchat.chat import USER, generate, open_model
from tests.webchat.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

pytestmark = pytest.mark.timeout(180)


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
            await open_model(page, catalog.format(model.format).title["en"], model.format, model.code)
            await page.locator("#text").fill("a lighthouse at dawn, oil painting")
            await page.get_by_role("button", name="Send").click()
            await generate(page)

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
