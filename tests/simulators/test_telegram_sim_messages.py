"""Text messages through the real aiogram client: send, edit, delete, keyboards and Telegram's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.enums import ChatAction, ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramUnauthorizedError
from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from simulators.telegram import SimulatorConfig, TelegramSimulator
from simulators.telegram.testing import TEST_TOKEN, bot_for, running_simulator

USER = 123456789


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot]]:
    # One server and client per module (closing an aiogram session sleeps 250 ms); each test resets.
    async with running_simulator() as simulator:
        client = bot_for(simulator)
        yield simulator, client
        await client.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot]) -> TelegramSimulator:
    simulator = running[0]
    simulator.reset()
    simulator.add_user(USER, first_name="Test", last_name="User", username="test_user")
    return simulator


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot], sim: TelegramSimulator) -> Bot:
    return running[1]


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data) for text, data in pairs]]
    )


async def test_get_me_names_the_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (7000000001, True, "genflow_local_bot")


async def test_a_token_other_than_the_configured_one_is_unauthorized() -> None:
    config = SimulatorConfig(token=TEST_TOKEN, accept_any_token=False)
    async with running_simulator(config) as simulator:
        stranger = bot_for(simulator, "42:not-the-token")
        try:
            with pytest.raises(TelegramUnauthorizedError):
                await stranger.get_me()
        finally:
            await stranger.session.close()
        async with aiohttp.ClientSession() as http:  # malformed tokens never reach a method
            async with http.post(f"{simulator.url}/botgarbage/getMe") as response:
                assert response.status == 401
                assert await response.json() == {
                    "ok": False,
                    "error_code": 401,
                    "description": "Unauthorized",
                }


async def test_send_edit_and_delete_with_an_inline_keyboard(sim: TelegramSimulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Choose a style:", reply_markup=keyboard(("Anime", "style:anime")))
    assert sent.from_user is not None and sent.from_user.username == "genflow_local_bot"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "style:anime"

    edited = await bot.edit_message_text(
        "Rendering…", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("Cancel", "cancel"))
    )
    assert isinstance(edited, type(sent)) and edited.text == "Rendering…" and edited.edit_date is not None
    # An edit without reply_markup drops the keyboard, as Telegram does.
    await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)
    second = await bot.send_message(USER, "Bye")
    assert await bot.delete_message(USER, second.message_id) is True

    transcript = sim.chat(USER)
    first, last = transcript.messages
    assert (first.text, first.reply_markup, first.edit_count, first.deleted) == ("Done", None, 2, False)
    assert (last.text, last.deleted) == ("Bye", True)
    assert [m.text for m in transcript.visible] == ["Done"]
    assert [c.method for c in sim.calls] == [
        "sendMessage", "editMessageText", "editMessageText", "sendMessage", "deleteMessage",
    ]  # fmt: skip


async def test_edit_reply_markup_and_not_modified(bot: Bot) -> None:
    sent = await bot.send_message(USER, "Pick", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("B", "b"))
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Pick", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("B", "b"))
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, 999)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 4097, "Bad Request: message is too long"),
        ("😀" * 2049, "Bad Request: message is too long"),  # 4098 UTF-16 units
        ("   ", "Bad Request: message text is empty"),
    ],
)
async def test_text_limits(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER, text)
    assert caught.value.message == error


async def test_length_is_counted_after_html_markup(sim: TelegramSimulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sim.chat(USER).messages[0].text == "x" * 4096
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "<b>unclosed", parse_mode=ParseMode.HTML)
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(USER, "Done.", parse_mode=ParseMode.MARKDOWN_V2)


async def test_oversized_callback_data_is_rejected(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "Pick", reply_markup=keyboard(("A", "x" * 65)))


async def test_unknown_chats_exist_only_outside_strict_mode(bot: Bot) -> None:
    assert (await bot.send_message(555, "hello")).chat.id == 555
    async with running_simulator(SimulatorConfig(token=TEST_TOKEN, strict_chats=True)) as strict:
        strict_bot = bot_for(strict)
        try:
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await strict_bot.send_message(555, "hello")
        finally:
            await strict_bot.session.close()


async def test_blocked_user_makes_sends_forbidden(sim: TelegramSimulator, bot: Bot) -> None:
    sim.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    sim.inject_message(USER, "/start")  # writing again means unblocking
    assert (await bot.send_message(USER, "welcome back")).text == "welcome back"


async def test_commands_and_chat_actions(sim: TelegramSimulator, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="balance", description="Stars"),
    ]
    assert await bot.set_my_commands(commands)
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Start"), ("balance", "Stars"),
    ]  # fmt: skip
    assert await bot.send_chat_action(USER, ChatAction.UPLOAD_PHOTO)
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")
    actions = [e.data["action"] for e in sim.engine.state.events if e.kind == "chat_action"]
    assert actions == ["upload_photo"]


async def test_copy_message_and_reply(sim: TelegramSimulator, bot: Bot) -> None:
    original = await bot.send_message(USER, "original")
    reply = await bot.send_message(USER, "a reply", reply_to_message_id=original.message_id)
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "original"
    copied = await bot.copy_message(USER, USER, original.message_id)
    assert sim.chat(USER).messages[-1].message_id == copied.message_id
    assert sim.chat(USER).messages[-1].text == "original"


async def test_transcript_over_http(sim: TelegramSimulator, bot: Bot) -> None:
    sent = await bot.send_message(USER, "hi", reply_markup=keyboard(("Go", "go")))
    await bot.edit_message_text("hi!", chat_id=USER, message_id=sent.message_id)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim.url}/_sim/chats/{USER}") as response:
            chat = (await response.json())["chat"]
        async with http.get(f"{sim.url}/_sim/calls", params={"method": "editMessageText"}) as response:
            calls = (await response.json())["calls"]
    message = chat["messages"][0]
    assert (message["text"], message["sender"], message["edit_count"]) == ("hi!", "bot", 1)
    assert message["from_user"]["is_bot"] is True
    assert calls[0]["ok"] is True and calls[0]["params"]["text"] == "hi!"
