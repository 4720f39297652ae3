"""One fuzz user's means: sending updates as that user, paced under the bot's flood limit and each waited for
until answered, and reading what the bot shows (its screens' buttons, the user's FSM state)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiogram.filters.callback_data import CallbackData

from testkit.bot_fuzz.state import Run
from testkit.bot_fuzz.updates import must_parse
from testkit.bot_fuzz.watch import Sent
from testkit.keyboards import matches

Wanted = Callable[[str], bool]  # accepts the callback data of the buttons a walk looks for


class UserBase:
    """One fuzz user: sends updates as that user (paced under the flood limit), reads what the bot shows."""

    def __init__(self, run: Run, user_id: int, rng: random.Random) -> None:
        self.run = run
        self.h = run.h
        self.id = user_id
        self.rng = rng
        self.last_counted = 0.0  # when the last flood-counted update was sent
        self.blocked = False
        self.paid = False

    # -- sending ---------------------------------------------------------------------------------------
    async def _post(self, path: str, **kwargs: Any) -> dict[str, Any] | None:
        async with self.h.http.post(f"{self.h.telegram}{path}", **kwargs) as response:
            body = await response.json()
        return body if body.get("ok") else None

    async def _pace(self) -> None:
        wait = self.last_counted + self.run.plan.gap - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self.last_counted = time.monotonic()

    async def _deliver(
        self, category: str, case: str, step: str, path: str, *, expect: str | None, counted: bool, **kw: Any
    ) -> Sent | None:
        if not self.run.take():
            self.run.stop = True
            return None
        if counted:
            await self._pace()
        body = await self._post(path, **kw)
        if body is None:  # the simulator refused (e.g. a message that no longer exists): not sent
            self.run.budget += 1
            return None
        update = body["update"]
        kind = next(k for k in update if k != "update_id")
        payload = update[kind]
        sent = Sent(
            user=self.id,
            category=category,
            case=case,
            step=step,
            kind=kind,
            expect=expect,
            update_id=update["update_id"],
            call_seq=body.get("call_seq", 0),
            query_id=str(payload.get("id")) if kind in ("callback_query", "pre_checkout_query") else None,
            sent_at=time.monotonic(),
        )
        self.run.sent.append(sent)
        if expect is not None:
            sent.answered = await self.run.watch.wait(
                lambda: self.run.watch.answered(sent), self.run.plan.answer_timeout
            )
            await asyncio.sleep(0.15)  # the rest of the answer (a second message, an edit) lands meanwhile
        else:
            await asyncio.sleep(0.05)
        return sent

    async def text(self, text: str, category: str, case: str, step: str) -> Sent | None:
        return await self._deliver(
            category,
            case,
            step,
            f"/_sim/users/{self.id}/message",
            json={"text": text},
            expect="message",
            counted=True,
        )

    async def upload(
        self, kind: str, data: bytes, name: str, category: str, case: str, step: str
    ) -> Sent | None:
        form = aiohttp.FormData()
        form.add_field("kind", kind)
        form.add_field("file", data, filename=name)
        return await self._deliver(
            category, case, step, f"/_sim/users/{self.id}/message", data=form, expect="message", counted=True
        )

    async def press(
        self,
        message_id: int,
        data: str,
        category: str,
        case: str,
        step: str,
        *,
        force: bool = True,
        refusal: bool = False,
    ) -> Sent | None:
        """Press ``data`` on a message; ``refusal``: data naming nothing, to be refused with a notice."""
        body = {"message_id": message_id, "data": data, "force": force}
        sent = await self._deliver(
            category,
            case,
            step,
            f"/_sim/users/{self.id}/callback",
            json=body,
            expect="callback",
            counted=True,
        )
        if sent is not None:
            sent.data, sent.refusal = data, refusal
        return sent

    async def raw(
        self,
        kind: str,
        payload: dict[str, Any],
        category: str,
        case: str,
        step: str,
        *,
        expect: str | None,
        counted: bool,
        force: bool = True,
        refusal: bool = False,
    ) -> Sent | None:
        must_parse(kind, payload)
        body = {"type": kind, "payload": payload, "force": force}
        sent = await self._deliver(
            category, case, step, "/_sim/updates", json=body, expect=expect, counted=counted
        )
        if sent is not None:
            sent.data, sent.refusal = str(payload.get("data", "")), refusal
        return sent

    def me(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": "Fuzz", "language_code": "en"}

    # -- reading the bot's state ---------------------------------------------------------------------------
    async def fsm(self) -> tuple[str | None, dict[str, Any]]:
        row = await self.h.pool.fetchrow(
            "SELECT state, data FROM bot_fsm WHERE chat_id = $1 AND user_id = $1 "
            "ORDER BY updated_at DESC LIMIT 1",
            self.id,
        )
        if row is None:
            return None, {}
        data = row["data"]
        if isinstance(data, str):
            data = json.loads(data)
        return row["state"], data or {}

    def screen(self, wanted: Wanted) -> tuple[int, list[str]] | None:
        """The newest message showing a button ``wanted`` accepts: (message id, all its callback data)."""
        found = self.run.watch.screen(self.id, wanted)
        if found:
            self.run.other_buttons.extend(found[1][:3])
            del self.run.other_buttons[:-500]
        return found

    async def tap(self, wanted: Wanted, step: str, pick: Callable[[list[str]], str] | None = None) -> bool:
        """Press a button ``wanted`` accepts, on the newest screen offering one (``pick`` chooses)."""
        found = self.screen(wanted)
        if found is None:
            return False
        message_id, data = found
        choices = [d for d in data if wanted(d)]
        choice = pick(choices) if pick else self.rng.choice(choices)
        sent = await self.press(message_id, choice, "walk", "button", step, force=False)
        return sent is not None

    async def fuzz(
        self,
        step: str,
        *,
        count: int | None = None,
        form: Any = None,
        spec: Any = None,
        invoice: int | None = None,
    ) -> None:
        """Random faults at ``step`` (``testkit.bot_fuzz.faults.FuzzUser``)."""
        raise NotImplementedError


def button_of(kind: type[CallbackData], **fields: Any) -> Wanted:
    """Accepts the callback data of a ``kind`` button with these field values (``contracts.buttons``)."""
    return lambda data: matches(data, kind, **fields)
