"""The bot's side of the conversation, read from the Telegram simulator's log of Bot API calls: what each chat
was sent, which queries were answered (and with what notice), the screens and their buttons; and
:class:`Sent`, the record of one update a fuzz user sent and the answer it expects."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from testkit.harness import Harness
from testkit.keyboards import buttons

# Bot API methods that put something into a chat: any of them answers a user's message.
OUTPUT_METHODS = {
    "sendmessage",
    "editmessagetext",
    "editmessagereplymarkup",
    "editmessagecaption",
    "sendphoto",
    "sendvideo",
    "sendaudio",
    "senddocument",
    "sendvoice",
    "sendanimation",
    "sendmediagroup",
    "sendinvoice",
    "copymessage",
}


@dataclass
class Sent:
    user: int
    category: str
    case: str
    step: str
    kind: str  # the update's type
    expect: str | None  # "message", "callback", "pre_checkout" or None
    update_id: int
    call_seq: int
    query_id: str | None = None
    sent_at: float = 0.0
    answered: bool | None = None
    forged_payment: bool = False
    data: str = ""  # a callback query's data
    refusal: bool = False  # forged callback data that names nothing: the bot must say it is out of date


class CallWatch:
    """Reads the simulator's call log as it grows: outputs per chat, answered queries, the screens shown."""

    def __init__(self, h: Harness, start_seq: int) -> None:
        self.h = h
        self.seq = start_seq
        self.outputs: dict[int, list[int]] = {}  # chat -> seqs of calls that put something in it
        self.callback_answers: dict[str, int] = {}  # callback query id -> seq
        self.callback_texts: dict[str, str] = {}  # callback query id -> the notice shown ("" for none)
        self.pre_checkout_answers: dict[str, tuple[int, bool]] = {}  # query id -> (seq, ok)
        self.screens: dict[int, dict[int, dict[str, Any]]] = {}  # chat -> message id -> message
        self.latest: dict[int, list[int]] = {}  # chat -> message ids in the order they were written
        self.invoices: dict[int, list[int]] = {}  # chat -> invoice message ids
        self.texts: dict[int, list[str]] = {}  # chat -> texts sent (invite links are read from here)
        self.changed = asyncio.Event()
        self.stopped = False

    async def run(self) -> None:
        while not self.stopped:
            try:
                async with self.h.http.get(
                    f"{self.h.telegram}/_sim/calls", params={"after": self.seq}
                ) as response:
                    calls = (await response.json())["calls"]
            except (aiohttp.ClientError, TimeoutError, ValueError):
                await asyncio.sleep(0.2)
                continue
            for call in calls:
                self.seq = max(self.seq, call["seq"])
                self._take(call)
            if calls:
                event, self.changed = self.changed, asyncio.Event()
                event.set()
            await asyncio.sleep(0.05)

    def _take(self, call: dict[str, Any]) -> None:
        method = call["method"].lower()
        params = call.get("params") or {}
        if method == "answercallbackquery":
            query_id = str(params.get("callback_query_id"))
            self.callback_answers.setdefault(query_id, call["seq"])
            self.callback_texts.setdefault(query_id, str(params.get("text") or ""))
            return
        if method == "answerprecheckoutquery":
            ok = str(params.get("ok")).lower() in ("true", "1")
            self.pre_checkout_answers.setdefault(str(params.get("pre_checkout_query_id")), (call["seq"], ok))
            return
        if method not in OUTPUT_METHODS:
            return
        try:
            chat = int(params.get("chat_id"))
        except (TypeError, ValueError):
            return
        self.outputs.setdefault(chat, []).append(call["seq"])
        if isinstance(params.get("text"), str):
            self.texts.setdefault(chat, []).append(params["text"])
        result = call.get("result")
        if call.get("ok") and isinstance(result, dict) and "message_id" in result:
            self.screens.setdefault(chat, {})[result["message_id"]] = result
            order = self.latest.setdefault(chat, [])
            order.append(result["message_id"])
            del order[:-200]
            if "invoice" in result:
                self.invoices.setdefault(chat, []).append(result["message_id"])

    async def wait(self, ready: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    def answered(self, sent: Sent) -> bool:
        if sent.expect == "message":
            return any(seq > sent.call_seq for seq in self.outputs.get(sent.user, []))
        if sent.expect == "callback":
            return self.callback_answers.get(sent.query_id or "", -1) > sent.call_seq
        if sent.expect == "pre_checkout":
            return self.pre_checkout_answers.get(sent.query_id or "", (-1, False))[0] > sent.call_seq
        return True

    def screen(self, chat: int, predicate: Callable[[str], bool]) -> tuple[int, list[str]] | None:
        """The newest message in the chat with a button whose data matches: (message id, all its data)."""
        messages = self.screens.get(chat, {})
        for message_id in reversed(self.latest.get(chat, [])):
            data = buttons(messages.get(message_id) or {})
            if any(predicate(d) for d in data):
                return message_id, data
        return None

    def last_message(self, chat: int) -> int | None:
        order = self.latest.get(chat)
        return order[-1] if order else None
