"""Updates through the real aiogram client: long polling, webhooks, and a Dispatcher end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiohttp import web

from simulators.telegram import SimulatorConfig, TelegramSimulator
from simulators.telegram.models import PendingUpdate
from simulators.telegram.testing import TEST_TOKEN, bot_for, make_png, running_simulator, shape_differences
from simulators.telegram.webhook import kind_of

USER = 123456789
FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot]]:
    # Webhook retries after 50 ms instead of Telegram's seconds.
    async with running_simulator(
        SimulatorConfig(token=TEST_TOKEN, webhook_retry_delays=(0.05,))
    ) as simulator:
        client = bot_for(simulator)
        yield simulator, client
        await client.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot]) -> TelegramSimulator:
    simulator = running[0]
    simulator.reset()
    simulator.add_user(USER, first_name="Test", last_name="User", username="test_user", language_code="en")
    return simulator


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot], sim: TelegramSimulator) -> Bot:
    return running[1]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, asyncio.Queue[tuple[dict[str, str], Any]], list[int]]]:
    """A webhook endpoint on a free port: yields (url, received (headers, body), statuses to answer)."""
    received: asyncio.Queue[tuple[dict[str, str], Any]] = asyncio.Queue()
    statuses: list[int] = []  # answered in order, then 200

    async def hook(request: web.Request) -> web.Response:
        await received.put((dict(request.headers), await request.json()))
        return web.json_response({}, status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/hook", received, statuses
    await runner.cleanup()


async def test_long_poll_delivers_an_injected_message(sim: TelegramSimulator, bot: Bot) -> None:
    async def inject_later() -> None:
        await asyncio.sleep(0.1)
        sim.inject_message(USER, "/start")

    task = asyncio.create_task(inject_later())
    updates = await bot.get_updates(timeout=5)  # waits for the message
    await task
    assert len(updates) == 1 and updates[0].message is not None
    assert updates[0].message.text == "/start"
    raw = sim.calls_to("getUpdates")[-1].result[0]
    assert shape_differences(raw, fixture("update_message_text.json")) == []
    assert raw["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    # Confirmed by the next offset: not delivered twice.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []


async def test_update_ids_increase_and_allowed_updates_filter(sim: TelegramSimulator, bot: Bot) -> None:
    sim.inject_message(USER, "one")
    sent = await bot.send_message(USER, "Pick", reply_markup=_keyboard())
    sim.press(USER, sent.message_id, "style:anime")
    sim.inject_message(USER, "two")
    ids = [u["update_id"] for u in sim.pending_updates]
    assert ids == sorted(ids) and len(set(ids)) == 3
    only_messages = await bot.get_updates(allowed_updates=["message"], timeout=0)
    assert [u.message.text for u in only_messages if u.message] == ["one", "two"]


async def test_callback_query_and_its_answer(sim: TelegramSimulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Choose a style:", reply_markup=_keyboard())
    sim.press(USER, sent.message_id, "style:watercolor")
    updates = await bot.get_updates(timeout=1)
    query = updates[0].callback_query
    assert query is not None and query.data == "style:watercolor"
    raw = sim.calls_to("getUpdates")[-1].result[0]
    assert shape_differences(raw, fixture("update_callback_query.json")) == []

    assert await bot.answer_callback_query(query.id, text="Queued!")
    answered = sim.chat(USER).callbacks[0]
    assert answered.answered and answered.answer is not None and answered.answer["text"] == "Queued!"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_photo_update_matches_the_fixture(sim: TelegramSimulator, bot: Bot) -> None:
    sim.inject_file(USER, make_png(1280, 720), caption="make it look like a watercolor painting")
    updates = await bot.get_updates(timeout=1)
    assert updates[0].message is not None and updates[0].message.photo is not None
    assert updates[0].message.photo[-1].width == 1280
    raw = sim.calls_to("getUpdates")[-1].result[0]
    assert shape_differences(raw, fixture("update_message_photo.json")) == []


async def test_webhook_delivery_with_secret_and_retries(
    sim: TelegramSimulator,
    bot: Bot,
    receiver: tuple[str, asyncio.Queue[tuple[dict[str, str], Any]], list[int]],
) -> None:
    url, received, statuses = receiver
    statuses.append(500)  # the first delivery fails: Telegram retries the same update
    assert await bot.set_webhook(url, secret_token="s3cret-token")
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    sim.inject_message(USER, "hello hook")

    _, first = await asyncio.wait_for(received.get(), 5)
    headers, body = await asyncio.wait_for(received.get(), 5)
    assert first == body and body["message"]["text"] == "hello hook"
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret-token"
    await sim.wait_for(lambda: not sim.pending_updates)
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_webhook_answer_can_carry_a_method(sim: TelegramSimulator, bot: Bot) -> None:
    """aiogram's SimpleRequestHandler (handle_in_background=False) replies with a method in the body."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        return message.answer("Welcome!")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False).register(app, path="/hook")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await bot.set_webhook(f"http://{host}:{port}/hook")
        sim.inject_message(USER, "/start")
        await sim.wait_for(lambda: len(sim.chat(USER).messages) == 2)
        assert sim.chat(USER).messages[-1].text == "Welcome!"
        assert sim.calls_to("sendMessage")[-1].via == "webhook_reply"
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_dispatcher_polling_end_to_end(sim: TelegramSimulator, bot: Bot) -> None:
    """A real aiogram Dispatcher polls the simulator: /start, a button press, an edited message."""
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Choose a style:", reply_markup=_keyboard())

    @dispatcher.callback_query(F.data.startswith("style:"))
    async def choose(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Style: {query.data}")

    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        sim.inject_message(USER, "/start")
        await sim.wait_for(lambda: len(sim.chat(USER).from_bot()) == 1)
        menu = sim.chat(USER).from_bot()[0]
        sim.press(USER, menu.message_id, "style:anime")
        await sim.wait_for(lambda: sim.chat(USER).from_bot()[0].text == "Style: style:anime")
        assert sim.chat(USER).callbacks[0].answered
    finally:
        await dispatcher.stop_polling()
        await polling


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Watercolor", callback_data="style:watercolor"),
                InlineKeyboardButton(text="Anime", callback_data="style:anime"),
            ]
        ]
    )


async def test_webhook_keeps_each_chat_in_order_and_serves_chats_in_parallel(
    sim: TelegramSimulator, bot: Bot
) -> None:
    """One update at a time per chat (the next waits for the one before to be accepted), chats in parallel;
    a second setWebhook with the same URL (another replica starting) leaves deliveries in progress alone."""
    other = USER + 1
    sim.add_user(other, first_name="Other")
    entered: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    release: dict[int, asyncio.Event] = {USER: asyncio.Event(), other: asyncio.Event()}
    failed_once: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        chat, text = body["message"]["chat"]["id"], body["message"]["text"]
        await entered.put((chat, text))
        await release[chat].wait()
        if text == "b1" and text not in failed_once:  # refused once: retried before b2 goes
            failed_once.add(text)
            return web.json_response({}, status=503, headers={"X-Upstream": "replica-1"})
        return web.json_response({}, headers={"X-Upstream": "replica-2"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/hook"
    try:
        assert await bot.set_webhook(url)
        for text in ("a1", "a2"):
            sim.inject_message(USER, text)
        for text in ("b1", "b2"):
            sim.inject_message(other, text)
        # Both chats' first updates are in flight at once; neither chat's second one is.
        first_two = {await asyncio.wait_for(entered.get(), 5) for _ in range(2)}
        assert first_two == {(USER, "a1"), (other, "b1")}
        assert await bot.set_webhook(url)  # another replica starts: nothing restarts
        await asyncio.sleep(0.2)
        assert entered.empty()
        release[USER].set()
        assert await asyncio.wait_for(entered.get(), 5) == (USER, "a2")
        release[other].set()
        rest = [await asyncio.wait_for(entered.get(), 5) for _ in range(2)]
        assert rest == [(other, "b1"), (other, "b2")]  # b1 again after its 503, then b2
        await sim.wait_for(lambda: not sim.pending_updates)
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
    log = sim.engine.webhooks.log()
    attempts = [
        (d["lane"], d["attempt"], d["status"], d["upstream"]) for d in log if d["lane"] == f"chat:{other}"
    ]
    assert attempts == [
        (f"chat:{other}", 1, 503, "replica-1"),
        (f"chat:{other}", 2, 200, "replica-2"),
        (f"chat:{other}", 1, 200, "replica-2"),
    ]
    assert sum(1 for d in log if d["error"] is None) == 4
    assert {d["kind"] for d in log} == {"message"}


def test_a_delivery_names_the_kind_of_update_it_carried() -> None:
    """The chaos checks count the successful_payment updates the bots were handed from these."""
    paid = PendingUpdate(1, "message", {"chat": {"id": 1}, "successful_payment": {"currency": "XTR"}})
    assert kind_of(paid) == "successful_payment"
    assert kind_of(PendingUpdate(2, "message", {"chat": {"id": 1}, "text": "hi"})) == "message"
    assert kind_of(PendingUpdate(3, "callback_query", {"id": "7", "data": "x"})) == "callback_query"
