"""A Telegram user of a whole stack (``Harness``), talking to the bot through the simulator's control API:
sends messages, presses buttons through ``contracts.buttons``, and waits until each update was handled.

"Handled" is read from the outside: in webhook mode (replicas) the update's delivery was accepted (the bot
answers the webhook only after handling it); with long polling, the bot's answer shows in the chat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram.filters.callback_data import CallbackData

from contracts.buttons import FormatModels, ModelCard
from testkit.harness import Harness
from testkit.keyboards import matching

Data = TypeVar("Data", bound=CallbackData)
Message = dict[str, Any]
WAIT = 30.0


def buttons(message: Message) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b for row in rows for b in row if "callback_data" in b]


def media_messages(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m["sender"] == "bot" and m["media"] and not m["deleted"]]


@dataclass
class ChatUser:
    h: Harness
    id: int
    sent: list[int] = field(default_factory=list)  # update ids, in order
    within: float = WAIT  # how long an update may take to be handled (chaos: Telegram's retries included)

    # ---- acting ----------------------------------------------------------------------------------------
    async def send(self, text: str) -> None:
        await self._update(f"/_sim/users/{self.id}/message", {"text": text})

    async def tap(self, message_id: int, data: str | CallbackData) -> None:
        data = data.pack() if isinstance(data, CallbackData) else data
        await self._update(f"/_sim/users/{self.id}/callback", {"message_id": message_id, "data": data})

    async def press(self, data: str | CallbackData) -> int:
        """Tap the button with this callback data on the newest message showing it; returns its id."""
        data = data.pack() if isinstance(data, CallbackData) else data
        message = await self.message_with(lambda b: b["callback_data"] == data)
        await self.tap(message["message_id"], data)
        return int(message["message_id"])

    async def press_for(self, kind: type[Data], **fields: Any) -> Data:
        """Tap the newest button whose data is a ``kind`` with these field values; returns it."""

        def wanted(button: dict[str, Any]) -> Data | None:
            return matching(button.get("callback_data", ""), kind, **fields)

        message = await self.message_with(lambda b: wanted(b) is not None)
        found = next(d for b in buttons(message) if (d := wanted(b)) is not None)
        await self.tap(message["message_id"], found)
        return found

    async def find_model(self, format_id: str, code: str) -> None:
        """Open a format's models and turn "More" pages until the model's button shows."""
        card = ModelCard(code=code).pack()
        # The screen is edited in place: read that message (a result may arrive below it meanwhile).
        screen = await self.press(FormatModels(format=format_id))
        for page in range(1, 40):
            if any(b["callback_data"] == card for b in buttons(await self.message(screen))):
                return
            screen = await self.press(FormatModels(format=format_id, page=page))
        raise AssertionError(f"{code} is on no page of {format_id}")

    async def _update(self, path: str, body: dict[str, Any]) -> None:
        async with self.h.http.post(f"{self.h.telegram}{path}", json=body) as response:
            answer = await response.json()
        assert answer.get("ok"), answer
        update_id = answer["update"]["update_id"]
        self.sent.append(update_id)
        await self.handled(update_id)

    async def handled(self, update_id: int, within: float | None = None) -> None:
        within = within or self.within
        deadline = time.monotonic() + within
        while True:
            if self.h.stack.replicas > 1:
                if any(d["error"] is None for d in await self.deliveries(update_id)):
                    return
            else:
                pending = await self.h.telegram_get("/_sim/updates")
                if all(u["update_id"] != update_id for u in pending["updates"]):
                    await asyncio.sleep(0.3)  # confirmed by the next getUpdates: give the handler a moment
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update_id} not handled after {within} s")
            await asyncio.sleep(0.05)

    async def deliveries(self, update_id: int) -> list[dict[str, Any]]:
        answer = await self.h.telegram_get("/_sim/webhook/deliveries", update_id=update_id)
        deliveries: list[dict[str, Any]] = answer["deliveries"]
        return deliveries

    # ---- reading -----------------------------------------------------------------------------------------
    async def messages(self) -> list[Message]:
        chat = await self.h.telegram_get(f"/_sim/chats/{self.id}")
        messages: list[Message] = chat["chat"]["messages"]
        return messages

    async def bot_messages(self) -> list[Message]:
        return [m for m in await self.messages() if m["sender"] == "bot" and not m["deleted"]]

    async def last(self) -> Message:
        return (await self.bot_messages())[-1]

    async def message(self, message_id: int) -> Message:
        return next(m for m in await self.messages() if m["message_id"] == message_id)

    async def message_with(self, predicate: Callable[[dict[str, Any]], bool]) -> Message:
        for message in reversed(await self.bot_messages()):
            if any(predicate(b) for b in buttons(message)):
                return message
        last = await self.last()
        raise AssertionError(f"no message with such a button; last: {last['text'] or last['caption']!r}")

    async def wait_for(
        self, predicate: Callable[[list[Message]], bool], within: float = WAIT
    ) -> list[Message]:
        deadline = time.monotonic() + within
        while True:
            messages = await self.messages()
            if predicate(messages):
                return messages
            if time.monotonic() > deadline:
                texts = [m["text"] or m["caption"] for m in messages[-5:]]
                raise AssertionError(f"timed out; last messages: {texts}")
            await asyncio.sleep(0.1)
