"""The web chat in a real headless Chromium, against the simulator and a tiny aiogram bot.

Skips only outside CI when Chromium (or playwright) is missing; in CI (``CI`` set) it must run.
``UPDATE_WEBCHAT_SCREENSHOT=1`` also saves the screenshot as docs/images/webchat.png for the README.
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from simulators.telegram import TelegramSimulator
from simulators.telegram.testing import bot_for, make_png, running_simulator

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium's own connections fail on a closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "webchat.png"
USER = 1001
pytestmark = pytest.mark.timeout(60)


def _require_browser() -> Any:
    """The playwright module, or a skip (outside CI only) saying what is missing."""
    missing = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    try:
        import playwright.async_api as playwright
    except ImportError:
        playwright = None
        missing.append("playwright (pip install -e '.[dev]')")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but these are missing: {', '.join(missing)}")
        pytest.skip(f"no headless browser here: {', '.join(missing)}")
    return playwright


def _menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="🎨 Image", callback_data="gen:image")],
            [
                InlineKeyboardButton(text="🎬 Video", callback_data="gen:video"),
                InlineKeyboardButton(text="🎵 Music", callback_data="gen:music"),
            ],
        ]
    )


def _dispatcher() -> Dispatcher:
    """A stand-in for the real bot: /start, a button that edits its message and sends a photo."""
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        name = html.escape(message.from_user.first_name if message.from_user else "there")
        await message.answer(
            f"👋 Hi, <b>{name}</b>! What shall we create?\n<i>Every generation is a Temporal workflow.</i>",
            parse_mode="HTML",
            reply_markup=_menu(),
        )

    @dispatcher.callback_query(F.data == "gen:image")
    async def image(query: CallbackQuery) -> None:
        await query.answer("Starting…")
        assert isinstance(query.message, Message)
        await query.message.edit_text("🎨 Image: <b>done</b> ✅", parse_mode="HTML")
        await query.message.bot.send_chat_action(query.message.chat.id, "upload_photo")  # type: ignore[union-attr]
        await query.message.answer_photo(
            BufferedInputFile(make_png(320, 200, (51, 144, 236)), "result.png"),
            caption="Your image · 320×200",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text="🔁 Again", callback_data="gen:image"),
                        InlineKeyboardButton(text="⬆️ Upscale", callback_data="upscale"),
                    ]
                ]
            ),
        )

    @dispatcher.callback_query()
    async def other(query: CallbackQuery) -> None:
        await query.answer("Not in this test", show_alert=True)

    @dispatcher.message(F.photo)
    async def photo(message: Message) -> None:
        size = message.photo[-1] if message.photo else None
        await message.reply(f"Got your photo: {size.width}×{size.height}" if size else "Got it")

    return dispatcher


@pytest.fixture
def playwright_api() -> Any:
    return _require_browser()


@pytest.fixture
async def bot_and_simulator(playwright_api: Any) -> AsyncIterator[tuple[TelegramSimulator, Bot]]:
    async with running_simulator() as simulator:
        bot = bot_for(simulator)
        dispatcher = _dispatcher()
        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield simulator, bot
        finally:
            await dispatcher.stop_polling()
            await polling
            await bot.session.close()


async def test_chat_in_a_headless_browser(
    bot_and_simulator: tuple[TelegramSimulator, Bot], tmp_path: Path
) -> None:
    playwright_api = _require_browser()
    simulator, bot = bot_and_simulator
    problems: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 560, "height": 900}, device_scale_factor=1)
            page.set_default_timeout(10_000)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"))
            await page.goto(f"{simulator.webchat_url}?user={USER}&name=Alice&lang=en")
            await page.wait_for_selector("body[data-ready='true']")
            assert await page.locator("h1").inner_text() == "Genflow — local chat (simulated Telegram)"
            assert (
                await page.get_by_role("link", name="Temporal UI").get_attribute("href")
                == "http://localhost:8233"
            )

            # A fresh chat offers /start; the bot answers with a formatted message and an inline keyboard.
            await page.get_by_role("button", name="/start").click()
            await page.locator(".row.user .text", has_text="/start").wait_for()
            welcome = page.locator(".row.bot", has_text="What shall we create?")
            await welcome.wait_for()
            assert await welcome.locator(".text b").inner_text() == "Alice"
            row_id = await welcome.get_attribute("id")

            # Pressing a button: the same message is edited in place, then a photo arrives.
            await welcome.get_by_role("button", name="🎨 Image").click()
            edited = page.locator(f"#{row_id}")
            await edited.locator(".text", has_text="Image: done").wait_for()
            assert await edited.locator(".edited").inner_text() == "edited"
            assert await edited.locator(".inline-keyboard").count() == 0
            await page.locator(".toast", has_text="Starting…").wait_for()
            photo = page.locator(".row.bot img.photo")
            await photo.wait_for()
            await page.wait_for_function(
                "() => document.querySelector('.row.bot img.photo')?.naturalWidth > 0"
            )
            assert await photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [320, 200]
            assert "Photo" in (await photo.get_attribute("alt") or "")
            assert await page.locator(".row.bot .text", has_text="Your image").count() == 1
            ids = await page.eval_on_selector_all(".messages > .row", "rows => rows.map(r => r.id)")
            assert ids.index(row_id) < len(ids) - 1  # edited where it was, not moved to the bottom

            # Uploading a photo through the file input: it shows as the user's bubble, the bot sees it.
            await page.set_input_files(
                "#file-input", files=[{"name": "me.png", "mimeType": "image/png", "buffer": make_png(64, 48)}]
            )
            await page.locator("#attachment", has_text="me.png").wait_for()
            await page.get_by_role("button", name="Send").click()
            await page.wait_for_function(
                "() => document.querySelector('.row.user img.photo')?.naturalWidth > 0"
            )
            await page.locator(".row.bot .text", has_text="Got your photo: 64×48").wait_for()
            user_photo = simulator.chat(USER).visible[-2]
            assert user_photo.sender == "user" and user_photo.media[0].kind == "photo"

            await page.screenshot(path=str(tmp_path / "webchat.png"))
            if os.environ.get("UPDATE_WEBCHAT_SCREENSHOT"):
                await page.evaluate("() => { document.getElementById('toast').hidden = true; }")
                DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(DOCS_SCREENSHOT))

            # Typed text goes out as the user; a bot's markup-looking text stays text and runs nothing.
            await page.get_by_role("textbox", name="Message").fill("hello <b>there</b>")
            await page.keyboard.press("Enter")
            await page.locator(".row.user .text", has_text="hello <b>there</b>").wait_for()
            hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
            await bot.send_message(USER, hostile)
            await page.locator(".row.bot .text", has_text="window.__xss=2").wait_for()
            assert await page.evaluate("() => window.__xss") is None
            assert await page.locator(".messages script, .messages img[src='x']").count() == 0

            # A deleted message disappears.
            await bot.delete_message(USER, simulator.chat(USER).visible[-1].message_id)
            await page.locator(".row.bot .text", has_text="window.__xss=2").wait_for(state="detached")
        finally:
            await browser.close()
    assert problems == []
