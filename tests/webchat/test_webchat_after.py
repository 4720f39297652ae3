"""What a person does after a result, in a real headless Chromium against the local chat and the whole
stack: an image, then "Animate" under it, then "Upscale" under the video — each a generation of its own,
linked to the one before; and a recipe whose middle step fails, its refund shown and the ledger whole."""

from __future__ import annotations

from pathlib import Path

from catalog import get_catalog
from contracts.buttons import Menu, MenuTarget, RecipeAction, RecipeOp
from db import Generations, Ledger, check_invariant
from tests.webchat.chat import data, generate, open_model, press
from tests.webchat.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

CHAIN_USER, RECIPE_USER = 1002, 1003


async def chat_page(p, running, user: int):
    browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = await browser.new_page(viewport={"width": 900, "height": 1000})
    page.set_default_timeout(60_000)
    url = f"http://127.0.0.1:{running.ports.telegram_simulator}/chat?user={user}&name=Ann&lang=en"
    await page.goto(url)
    await page.wait_for_selector("body[data-ready='true']")
    await page.get_by_role("button", name="/start").click()
    await page.locator(".row.bot .kbd-button", has_text="Create").last.wait_for()
    return browser, page


async def send_text(page, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.get_by_role("button", name="Send").click()


async def test_image_then_animate_then_upscale(stack, tmp_path: Path):
    playwright_api = _require_browser()
    running, pool = stack
    ledger = Ledger(pool)
    await ledger.ensure_user(CHAIN_USER, language="en")
    await ledger.credit(CHAIN_USER, 1000, key="webchat-chain-topup", kind="topup", reason="test")
    catalog = get_catalog()
    image = catalog.get("google/nano-banana")

    async with playwright_api.async_playwright() as p:
        browser, page = await chat_page(p, running, CHAIN_USER)
        try:
            await press(page, ".kbd-button:has-text('Create')")
            await open_model(page, catalog.format(image.format).title["en"], image.format, image.code)
            await send_text(page, "a lighthouse at dawn")
            await generate(page)
            await page.locator(".row.bot img.photo").last.wait_for(timeout=90_000)

            # Under the image: animate it. The image is already in the form; only the prompt is asked.
            await press(page, ".kbd-button:has-text('🎬 Animate')")
            await press(page, ".kbd-button:has-text('Kling 2.6')")
            await send_text(page, "the light turns slowly")
            await generate(page)
            await page.locator(".row.bot video").last.wait_for(timeout=90_000)

            # Under the video: upscale it.
            await press(page, ".kbd-button:has-text('🔍 Upscale')")
            await press(page, ".kbd-button:has-text('Topaz')")
            await generate(page)
            await page.locator(".row.bot video").nth(1).wait_for(timeout=90_000)
            await page.screenshot(path=str(tmp_path / "chain.png"))
        finally:
            await browser.close()

    upscale, animation, picture = await Generations(pool).recent_for_user(CHAIN_USER, limit=3)
    assert [g.model_id for g in (picture, animation, upscale)] == [
        "google/nano-banana",
        "kling-2.6/image-to-video",
        "topaz/video-upscale",
    ]
    assert all(g.status == "succeeded" for g in (picture, animation, upscale))
    assert (animation.parent_id, upscale.parent_id) == (picture.id, animation.id)  # history shows the chain
    balance = await ledger.balance(CHAIN_USER)
    assert (balance.balance, balance.held) == (1000 - picture.price - animation.price - upscale.price, 0)
    assert await check_invariant(pool) == []


async def test_a_recipe_with_a_failing_middle_step(stack, tmp_path: Path):
    playwright_api = _require_browser()
    running, pool = stack
    ledger = Ledger(pool)
    await ledger.ensure_user(RECIPE_USER, language="en")
    await ledger.credit(RECIPE_USER, 1000, key="webchat-recipe-topup", kind="topup", reason="test")

    async with playwright_api.async_playwright() as p:
        browser, page = await chat_page(p, running, RECIPE_USER)
        try:
            await press(page, data(Menu(to=MenuTarget.RECIPES).pack()))
            await press(page, data(RecipeAction(op=RecipeOp.SHOW, ref="clip-hd").pack()))
            await press(page, data(RecipeAction(op=RecipeOp.START, ref="clip-hd").pack()))
            await send_text(page, "a paper boat")
            await page.locator(".row.bot", has_text="Step 2 of 3").last.wait_for()
            await send_text(page, "it sinks [sim:fail]")
            await press(page, ".kbd-button:has-text('Start ·')")
            # The recipe's message: the first step done, the second failed, the third never run — refunded.
            finished = page.locator(".row.bot", has_text="Returned to your balance").last
            await finished.wait_for(timeout=90_000)
            text = await finished.inner_text()
            await page.screenshot(path=str(tmp_path / "recipe.png"))
        finally:
            await browser.close()

    assert "✅ done" in text and "❌ failed" in text and "↩️ not run" in text, text
    steps = sorted(await Generations(pool).recent_for_user(RECIPE_USER, limit=5), key=lambda g: g.id)
    assert [g.status for g in steps] == ["succeeded", "failed"]  # the third step never started
    balance = await ledger.balance(RECIPE_USER)
    assert (balance.balance, balance.held) == (1000 - steps[0].price, 0)
    assert await check_invariant(pool) == []
