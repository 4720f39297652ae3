"""The /_sim control API over HTTP, as a web chat or another process would use it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice

from simulators.telegram import TelegramSimulator
from simulators.telegram.testing import bot_for, make_png, running_simulator

USER = 123456789


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot, aiohttp.ClientSession]]:
    async with running_simulator() as simulator, aiohttp.ClientSession(base_url=simulator.url) as http:
        client = bot_for(simulator)
        yield simulator, client, http
        await client.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot, aiohttp.ClientSession]) -> TelegramSimulator:
    return running[0]


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot, aiohttp.ClientSession]) -> Bot:
    return running[1]


@pytest.fixture
async def http(running: tuple[TelegramSimulator, Bot, aiohttp.ClientSession]) -> aiohttp.ClientSession:
    session = running[2]
    async with session.post("/_sim/reset") as response:
        assert response.status == 200
    async with session.put(f"/_sim/users/{USER}", json={"first_name": "Test", "username": "test_user"}):
        pass
    return session


async def call(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, path, **kwargs) as response:
        return response.status, await response.json()


async def test_events_long_poll_sees_new_and_edited_messages(http: aiohttp.ClientSession, bot: Bot) -> None:
    _, first = await call(http, "GET", f"/_sim/chats/{USER}/events", params={"after": 0, "timeout": 0})
    cursor = first["last_seq"]

    async def bot_writes() -> None:
        await asyncio.sleep(0.1)
        sent = await bot.send_message(USER, "Rendering…")
        await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)

    writer = asyncio.create_task(bot_writes())
    _, polled = await call(http, "GET", f"/_sim/chats/{USER}/events", params={"after": cursor, "timeout": 5})
    await writer
    events = polled["events"]
    assert events[0]["kind"] == "message" and events[0]["message"]["sender"] == "bot"
    _, rest = await call(http, "GET", f"/_sim/chats/{USER}/events", params={"after": cursor, "timeout": 0})
    assert [e["kind"] for e in rest["events"]] == ["message", "edit"]
    assert rest["events"][-1]["message"]["text"] == "Done"  # events show the current content


async def test_callback_block_and_pay_over_http(
    sim: TelegramSimulator, http: aiohttp.ClientSession, bot: Bot
) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]])
    sent = await bot.send_message(USER, "Ready?", reply_markup=markup)
    status, pressed = await call(
        http, "POST", f"/_sim/users/{USER}/callback", json={"message_id": sent.message_id, "data": "go"}
    )
    assert status == 200 and pressed["update"]["callback_query"]["data"] == "go"
    status, wrong = await call(
        http, "POST", f"/_sim/users/{USER}/callback", json={"message_id": sent.message_id, "data": "nope"}
    )
    assert status == 400 and "no button" in wrong["error"]

    invoice = await bot.send_invoice(
        USER, "Stars", "Credits", "order:1", currency="XTR", prices=[LabeledPrice(label="Stars", amount=5)]
    )
    status, paid = await call(
        http, "POST", f"/_sim/users/{USER}/pay", json={"message_id": invoice.message_id}
    )
    assert status == 200 and paid["update"]["pre_checkout_query"]["total_amount"] == 5

    await call(http, "POST", f"/_sim/users/{USER}/block")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER, "hello?")
    await call(http, "POST", f"/_sim/users/{USER}/unblock")
    assert (await bot.send_message(USER, "hello")).text == "hello"


async def test_file_id_message_and_media_links(http: aiohttp.ClientSession, bot: Bot) -> None:
    png = make_png(10, 10)
    sent = await bot.send_photo(USER, BufferedInputFile(png, "a.png"))
    assert sent.photo is not None
    status, body = await call(
        http,
        "POST",
        f"/_sim/users/{USER}/message",
        json={"file_id": sent.photo[-1].file_id, "caption": "this"},
    )
    assert status == 200 and body["update"]["message"]["caption"] == "this"
    _, chat = await call(http, "GET", f"/_sim/chats/{USER}")
    media = chat["chat"]["messages"][-1]["media"][0]
    async with http.get(media["url"]) as response:
        assert await response.read() == png
    status, _ = await call(http, "GET", "/_sim/chats/999")
    assert status == 404
