"""The bot under test (restartable) and a user who talks to it through the simulator's control API: sends,
presses buttons through ``contracts.buttons``, waits for the bot's answers, reads its FSM."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.storage.base import StorageKey

from contracts.buttons import FormatModels, ModelCard
from contracts.ids import parse_generation_id
from testkit.chat_user import buttons
from testkit.keyboards import matching
from tests.bot.running import WAIT, RunningBot, start_bot
from tests.fixtures.system import System

Data = TypeVar("Data", bound=CallbackData)
Chat = dict[str, Any]


class Harness:
    """The bot under test (restartable) and the simulator's control API."""

    def __init__(self, system: System, settings: dict[str, Any]) -> None:
        self.system = system
        self.settings = settings
        self.running: RunningBot | None = None
        self.expected_errors = 0  # a test that breaks a handler on purpose raises this

    @property
    def app(self) -> RunningBot:
        assert self.running is not None
        return self.running

    @property
    def http(self) -> aiohttp.ClientSession:
        return self.system.http

    async def start(self, *, drop_pending: bool = False) -> None:
        self.running = await start_bot(self.system, drop_pending=drop_pending, **self.settings)

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def handled(self, update_id: int) -> None:
        await asyncio.wait_for(self.app.tracker.event(update_id).wait(), WAIT)

    async def user(
        self,
        credits: int = 1000,
        *,
        language_code: str = "en",
        stored_language: bool = True,
        user_id: int | None = None,
    ) -> User:
        """A new Telegram user with ``credits``; ``stored_language=False``: no language chosen in the bot."""
        user_id = user_id or new_user_id()
        await self.system.ledger.ensure_user(user_id, language="en" if stored_language else None)
        if credits:
            await self.system.ledger.credit(user_id, credits, key=f"test:{user_id}", kind="topup")
        user = User(self, user_id)
        await self.sim(
            "PUT", f"/_sim/users/{user_id}", json={"first_name": "Ann", "language_code": language_code}
        )
        return user

    async def sim(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        async with self.http.request(method, self.system.telegram + path, **kwargs) as response:
            body = await response.json()
            assert response.status == 200 and body.get("ok"), body
            return body

    async def calls(self, method: str, after: int = 0) -> list[dict[str, Any]]:
        return (await self.sim("GET", f"/_sim/calls?method={method}&after={after}"))["calls"]

    async def pre_checkout_answer(self, query_id: str) -> dict[str, Any]:
        """The bot's answerPreCheckoutQuery for this query (its params: ok, error_message)."""
        calls = await self.calls("answerPreCheckoutQuery")
        answers = [c for c in calls if str(c["params"].get("pre_checkout_query_id")) == str(query_id)]
        assert len(answers) == 1, answers
        return answers[0]["params"]


def new_user_id() -> int:
    return int(uuid.uuid4().int % 10**9) + 1000


@dataclass
class User:
    harness: Harness
    id: int
    sent: list[int] = field(default_factory=list)  # update ids

    # ---- acting ----------------------------------------------------------------------------------------
    async def send(self, text: str) -> dict[str, Any]:
        return await self._message(json={"text": text})

    async def send_file(
        self, name: str, data: bytes, kind: str, caption: str | None = None
    ) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("kind", kind)
        if caption:
            form.add_field("caption", caption)
        form.add_field("file", data, filename=name)
        return await self._message(data=form)

    async def _message(self, **kwargs: Any) -> dict[str, Any]:
        update = (await self.harness.sim("POST", f"/_sim/users/{self.id}/message", **kwargs))["update"]
        self.sent.append(update["update_id"])
        await self.harness.handled(update["update_id"])
        return update["message"]

    async def press(
        self, data: str | CallbackData, message_id: int | None = None, *, force: bool = False
    ) -> str:
        """Tap the button with this callback data (on the newest message showing it); returns the data."""
        data = data.pack() if isinstance(data, CallbackData) else data
        if message_id is None:
            message = await self.message_with(lambda b: b["callback_data"] == data, force=force)
            message_id = message["message_id"]
        await self.tap(message_id, data, force=force)
        return data

    async def press_for(self, kind: type[Data], **fields: Any) -> Data:
        """Tap the newest button whose callback data is a ``kind`` with these field values; returns it."""

        def wanted(button: dict[str, Any]) -> Data | None:
            return matching(button.get("callback_data", ""), kind, **fields)

        message = await self.message_with(lambda b: wanted(b) is not None)
        found = next(d for b in buttons(message) if (d := wanted(b)) is not None)
        await self.tap(message["message_id"], found.pack())
        return found

    async def find_model(self, format_id: str, code: str) -> dict[str, Any]:
        """Open a format's models and page through "More" until the model's button shows; that message."""
        card = ModelCard(code=code).pack()
        await self.press(FormatModels(format=format_id))
        for page in range(1, 40):
            message = await self.last()
            if any(b["callback_data"] == card for b in buttons(message)):
                return message
            await self.press(FormatModels(format=format_id, page=page))
        raise AssertionError(f"{code} is on no page of {format_id}")

    async def press_matching(self, pattern: str) -> str:
        """Tap the newest button whose callback data matches ``pattern`` (a regex); returns the data."""
        regex = re.compile(pattern)
        message = await self.message_with(lambda b: bool(regex.fullmatch(b.get("callback_data", ""))))
        data = next(
            b["callback_data"] for b in buttons(message) if regex.fullmatch(b.get("callback_data", ""))
        )
        await self.tap(message["message_id"], data)
        return data

    async def press_text(self, text: str) -> str:
        """Tap the newest button whose label contains ``text``."""
        message = await self.message_with(lambda b: text in b["text"])
        data = next(b["callback_data"] for b in buttons(message) if text in b["text"])
        await self.tap(message["message_id"], data)
        return data

    async def tap(self, message_id: int, data: str | CallbackData, *, force: bool = False) -> None:
        data = data.pack() if isinstance(data, CallbackData) else data
        body = {"message_id": message_id, "data": data, "force": force}
        update = (await self.harness.sim("POST", f"/_sim/users/{self.id}/callback", json=body))["update"]
        self.sent.append(update["update_id"])
        await self.harness.handled(update["update_id"])

    async def pay(self, message_id: int, *, duplicates: int = 0) -> dict[str, Any]:
        """Tap Pay on the invoice with this message id; returns the pre_checkout_query once the bot answered
        it. An approved payment's successful_payment update (and ``duplicates`` copies) follows at once."""
        body = {"message_id": message_id, "duplicates": duplicates}
        update = (await self.harness.sim("POST", f"/_sim/users/{self.id}/pay", json=body))["update"]
        self.sent.append(update["update_id"])
        await self.harness.handled(update["update_id"])
        return update["pre_checkout_query"]

    # ---- reading -----------------------------------------------------------------------------------------
    async def chat(self) -> Chat:
        return await self.harness.system.chat(self.id)

    async def bot_messages(self) -> list[dict[str, Any]]:
        chat = await self.chat()
        return [m for m in chat["messages"] if m["sender"] == "bot" and not m["deleted"]]

    async def last(self) -> dict[str, Any]:
        return (await self.bot_messages())[-1]

    async def last_text(self) -> str:
        message = await self.last()
        return message["text"] or message["caption"] or ""

    async def message_with(self, predicate: Callable[[dict[str, Any]], bool], *, force: bool = False) -> dict:
        for message in reversed(await self.bot_messages()):
            if any(predicate(b) for b in buttons(message)):
                return message
        if force:
            return await self.last()
        raise AssertionError(f"no message with such a button; last: {await self.last_text()!r}")

    async def wait_for(self, predicate: Callable[[Chat], bool], within: float = 30.0) -> Chat:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            chat = await self.chat()
            if predicate(chat):
                return chat
            if asyncio.get_running_loop().time() > deadline:
                texts = [m["text"] or m["caption"] for m in chat["messages"][-5:]]
                raise AssertionError(f"timed out; last messages: {texts}")
            await asyncio.sleep(0.1)

    async def invoices(self) -> list[dict[str, Any]]:
        return [m for m in await self.bot_messages() if "invoice" in (m.get("extra") or {})]

    async def calls(self, method: str) -> list[dict[str, Any]]:
        """The bot's calls of ``method`` into this chat."""
        calls = await self.harness.calls(method)
        return [c for c in calls if str(c["params"].get("chat_id")) == str(self.id)]

    async def callback_answers(self) -> list[dict[str, Any]]:
        return (await self.chat())["callbacks"]

    async def last_answer(self) -> str | None:
        answers = await self.callback_answers()
        assert answers and answers[-1]["answered"], answers[-1:] or "no callback"
        return (answers[-1]["answer"] or {}).get("text")

    async def fsm(self) -> dict[str, Any]:
        app = self.harness.app
        key = StorageKey(bot_id=app.bot.id, chat_id=self.id, user_id=self.id)
        return await app.storage.get_data(key)


def media_messages(chat: Chat) -> list[dict[str, Any]]:
    return [m for m in chat["messages"] if m["sender"] == "bot" and m["media"] and not m["deleted"]]


def key_of(generation_id: str) -> str:
    """The request key of a generation id: what the buttons about it carry."""
    parsed = parse_generation_id(generation_id)
    assert parsed is not None, generation_id
    return parsed.request_key
