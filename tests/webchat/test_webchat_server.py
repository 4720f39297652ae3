"""The web chat without a browser: the page and static files, the rendered JSON, safe HTML, the CLI flags."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    LabeledPrice,
    ReplyKeyboardMarkup,
)

from simulators.telegram import SimulatorConfig, TelegramSimulator
from simulators.telegram.testing import TEST_TOKEN, bot_for, make_png, running_simulator

USER = 1001


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot, aiohttp.ClientSession]]:
    async with running_simulator() as simulator, aiohttp.ClientSession(base_url=simulator.url) as http:
        bot = bot_for(simulator)
        yield simulator, bot, http
        await bot.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot, aiohttp.ClientSession]) -> TelegramSimulator:
    running[0].reset()
    running[0].add_user(USER, first_name="You")
    return running[0]


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot, aiohttp.ClientSession]) -> Bot:
    return running[1]


@pytest.fixture
def http(running: tuple[TelegramSimulator, Bot, aiohttp.ClientSession]) -> aiohttp.ClientSession:
    return running[2]


async def get_json(http: aiohttp.ClientSession, path: str, **params: Any) -> Any:
    async with http.get(path, params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def transcript(http: aiohttp.ClientSession, chat_id: int = USER) -> dict[str, Any]:
    return (await get_json(http, f"/chat/api/chats/{chat_id}"))["chat"]


async def test_page_is_served_with_header_and_csp(
    sim: TelegramSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.get("/chat", params={"user": "2002", "lang": "ru", "name": "Ann"}) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    assert 'Genflow — local chat <span class="dim">(simulated Telegram)</span>' in page
    assert 'data-user-id="2002"' in page and 'data-lang="ru"' in page and 'data-user-name="Ann"' in page
    assert '<html lang="ru">' in page
    assert 'href="http://localhost:8233"' in page and "Temporal UI" in page
    assert re.findall(r"<script[^>]*>(.*?)</script>", page, re.S) == [
        ""
    ]  # no inline script: everything is in app.js
    assert "{{" not in page


async def test_page_defaults_and_bad_parameters(sim: TelegramSimulator, http: aiohttp.ClientSession) -> None:
    async with http.get("/chat", headers={"Accept-Language": "ru-RU,ru;q=0.9"}) as response:
        page = await response.text()
    assert 'data-user-id="1001"' in page and 'data-user-name="You"' in page and 'data-lang="ru"' in page
    async with http.get("/chat", params={"user": "abc"}) as response:
        assert response.status == 400
    async with http.get("/chat", params={"name": '"><script>alert(1)</script>', "lang": "<x>"}) as response:
        page = await response.text()
    assert "<script>alert" not in page
    assert 'data-user-name="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert 'data-lang="en"' in page
    async with http.get("/", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/chat"


@pytest.mark.parametrize(
    ("name", "content_type", "needle"),
    [("app.js", "text/javascript", "pollForever"), ("style.css", "text/css", ".bubble"),
     ("favicon.svg", "image/svg+xml", "<svg")],
)  # fmt: skip
async def test_static_files(
    sim: TelegramSimulator, http: aiohttp.ClientSession, name: str, content_type: str, needle: str
) -> None:
    async with http.get(f"/chat/static/{name}") as response:
        assert response.status == 200 and response.content_type == content_type
        assert needle in await response.text()


async def test_static_files_offline_and_contained(
    sim: TelegramSimulator, http: aiohttp.ClientSession
) -> None:
    for path in ("/chat/static/page.html", "/chat/static/..%2Fserver.py", "/chat/static/nope.js"):
        async with http.get(path) as response:
            assert response.status == 404, path
    for name in ("app.js", "style.css"):
        async with http.get(f"/chat/static/{name}") as response:
            text = await response.text()
        assert "http://" not in text and "https://" not in text, f"{name} must work offline (no CDN)"


async def test_bot_html_with_script_is_escaped(
    sim: TelegramSimulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    await bot.send_message(USER, "<b>Hi</b> &lt;script&gt;alert(1)&lt;/script&gt;", parse_mode="HTML")
    await bot.send_message(USER, "<script>alert(2)</script>", parse_mode=None)
    first, second = (await transcript(http))["messages"]
    assert first["html"] == "<b>Hi</b> &lt;script&gt;alert(1)&lt;/script&gt;"
    assert second["html"] == "&lt;script&gt;alert(2)&lt;/script&gt;"
    assert first["sender"] == "bot" and not first["edited"]


async def test_buttons_and_media_in_the_transcript(
    sim: TelegramSimulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Go <now>", callback_data="go:1")],
            [InlineKeyboardButton(text="Site", url="https://example.com")],
        ]
    )
    photo = make_png(40, 30)
    sent = await bot.send_photo(
        USER,
        BufferedInputFile(photo, "p.png"),
        caption="<i>Done</i>",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    await bot.send_document(
        USER, BufferedInputFile(b"%PDF-1.4 x", "report.pdf"), reply_to_message_id=sent.message_id
    )
    chat = await transcript(http)
    first, second = chat["messages"]
    assert first["html"] == "<i>Done</i>"
    assert first["buttons"] == [
        [{"text": "Go <now>", "style": "", "action": "callback", "data": "go:1"}],
        [{"text": "Site", "style": "", "action": "url", "url": "https://example.com"}],
    ]
    media = first["media"][0]
    assert media["kind"] == "photo" and (media["width"], media["height"]) == (40, 30)
    assert media["url"].startswith("/_sim/files/")  # relative: works on the web chat's own port too
    async with http.get(media["url"]) as response:
        assert await response.read() == photo
    assert second["media"][0]["file_name"] == "report.pdf" and second["media"][0]["kind"] == "document"
    assert second["reply_to"] == {"message_id": sent.message_id, "sender": "bot", "snippet": "Done"}


async def test_invoice_album_reply_keyboard_and_commands(
    sim: TelegramSimulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    await bot.send_invoice(
        USER, "100 credits", "Top up <b>", "topup:100", "XTR", [LabeledPrice(label="x", amount=50)]
    )
    photos = [InputMediaPhoto(media=BufferedInputFile(make_png(10 + i, 10), f"{i}.png")) for i in range(3)]
    photos[0] = InputMediaPhoto(media=photos[0].media, caption="Album")
    await bot.send_media_group(USER, photos)
    await bot.send_message(
        USER,
        "Menu",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="🎨 Image"), KeyboardButton(text="🎬 Video")]],
            input_field_placeholder="Pick one",
        ),
    )
    await bot.set_my_commands(
        [{"command": "start", "description": "Start"}, {"command": "help", "description": "Help"}]
    )
    chat = await transcript(http)
    invoice, *album, _menu = chat["messages"]
    assert invoice["invoice"] == {
        "title": "100 credits", "description": "Top up <b>", "currency": "XTR", "total_amount": 50
    }  # fmt: skip
    assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1 and album[0]["html"] == "Album"
    assert chat["reply_keyboard"] == {
        "rows": [["🎨 Image", "🎬 Video"]],
        "placeholder": "Pick one",
        "one_time": False,
    }
    commands = await get_json(http, "/chat/api/commands", lang="en")
    assert [c["command"] for c in commands["commands"]] == ["start", "help"]
    # The user pays: the invoice is payable through the control API the page uses.
    async with http.post(f"/_sim/users/{USER}/pay", json={"message_id": invoice["message_id"]}) as response:
        assert response.status == 200
    await bot.delete_my_commands()


async def test_events_carry_rendered_messages_edits_and_deletes(
    sim: TelegramSimulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    cursor = (await transcript(http))["last_seq"]

    async def poll() -> list[dict[str, Any]]:
        nonlocal cursor
        data = await get_json(http, f"/chat/api/chats/{USER}/events", after=cursor, timeout=5)
        assert data["events"], "the long poll timed out"
        cursor = data["last_seq"]
        return data["events"]

    async def bot_writes() -> int:
        await asyncio.sleep(0.05)  # the poll below is already waiting: it must wake up
        return (await bot.send_message(USER, "Rendering <b>1/2</b>", parse_mode="HTML")).message_id

    writing = asyncio.create_task(bot_writes())
    (new,) = await poll()
    message_id = await writing
    assert new["kind"] == "message" and new["message"]["html"] == "Rendering <b>1/2</b>"

    await bot.send_chat_action(USER, "upload_photo")
    await bot.edit_message_text("Done <script>", chat_id=USER, message_id=message_id)
    action, edit = await poll()
    assert action["kind"] == "chat_action" and action["data"] == {"action": "upload_photo"}
    assert edit["kind"] == "edit" and edit["message"]["html"] == "Done &lt;script&gt;"
    assert edit["message"]["edited"] is True and edit["message"]["message_id"] == message_id

    await bot.delete_message(USER, message_id)
    (deleted,) = await poll()
    assert deleted["kind"] == "delete" and deleted["message"]["deleted"] is True
    assert (await transcript(http))["messages"] == []


async def test_events_ask_for_a_resync_when_the_cursor_is_unknown(
    sim: TelegramSimulator, http: aiohttp.ClientSession
) -> None:
    data = await get_json(http, f"/chat/api/chats/{USER}/events", after=10**9, timeout=0)
    assert data["resync"] is True and data["events"] == []


async def test_user_messages_from_the_page_appear(
    sim: TelegramSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"/_sim/users/{USER}/message", json={"text": "/start"}) as response:
        assert response.status == 200
    form = aiohttp.FormData()
    form.add_field("kind", "photo")
    form.add_field("file", make_png(), filename="me.png", content_type="image/png")
    async with http.post(f"/_sim/users/{USER}/message", data=form) as response:
        assert response.status == 200, await response.text()
    text, photo = (await transcript(http))["messages"]
    assert text["sender"] == "user"
    assert text["html"] == '<a href="#" class="command" data-command="/start">/start</a>'
    assert photo["media"][0]["kind"] == "photo" and photo["sender"] == "user"
    assert len(sim.pending_updates) == 2


async def test_web_chat_on_its_own_port() -> None:
    config = SimulatorConfig(token=TEST_TOKEN, webchat_port=0, temporal_ui_url=None)
    async with running_simulator(config) as simulator, aiohttp.ClientSession() as http:
        assert not simulator.webchat_url.startswith(simulator.url)
        async with http.get(simulator.webchat_url) as response:
            page = await response.text()
        assert response.status == 200 and "Temporal UI" not in page
        base = simulator.webchat_url.removesuffix("/chat")
        async with http.put(f"{base}/_sim/users/{USER}", json={"first_name": "Ann"}) as response:
            assert response.status == 200
        async with http.get(f"{base}/chat/api/chats/{USER}") as response:
            assert (await response.json())["chat"]["user"]["first_name"] == "Ann"
        async with http.get(f"{base}/bot{TEST_TOKEN}/getMe") as response:
            assert response.status == 404  # the Bot API stays on the simulator's port
    assert TelegramSimulator().config.webchat_port is None


async def test_cli_flags_start_the_web_chat(tmp_path: Any) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulators.telegram", "--port", "0", "--webchat-port", "0",
        "--temporal-ui", "http://temporal.local:9999",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in range(2)]
        assert lines[1].startswith("Local web chat: http://127.0.0.1:"), lines
        url = lines[1].split(": ", 1)[1].strip()
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            page = await response.text()
        assert 'href="http://temporal.local:9999"' in page
    finally:
        process.terminate()
        await process.wait()
