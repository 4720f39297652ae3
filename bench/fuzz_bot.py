"""Random updates at every step of the real bot: every update a user expects an answer to gets one, nothing
raises, no money moves but through real payments.

The bot runs as its own process (``python -m bot``), long-polling the Telegram Bot API simulator over HTTP,
beside the worker and the webhooks server (:class:`bench.harness.Harness`). Fuzz users walk the bot's own
screens (``/create`` → format → model → card → every form step, media included → overview → confirmation;
``/topup`` → package → invoice → pay; language, balance, history, help, invite; the admin panel for the admin
of ``ADMIN_IDS``) and at each step send random updates in the real Bot API shapes:

- text: empty-looking, 4,096 and 10,000 characters, unicode (combining marks, RTL, emoji, other scripts'
  digits), Markdown/HTML injection, numbers and JSON in odd forms;
- media: photos, videos, audio, documents, voice, video notes, animations and stickers with wrong or
  oversized sizes and MIME types (raw updates with made-up file ids), real small uploads, contacts,
  locations, dice;
- commands: known ones, with arguments, with ``@botname`` (ours and another bot's), unknown ones;
- callback queries: stale (buttons of older screens), other users' buttons, garbage, 64 bytes, unknown
  prefixes, forged operations on the current form (indices out of range, non-ASCII digits, huge numbers);
- edited messages, channel posts, inline queries, my_chat_member (the user blocks the bot; the bot's
  messages then fail with 403 until the user writes again), pre-checkout queries and successful payments
  with forged payloads, and update types aiogram does not know.

Updates the bot did not ask for (its ``allowed_updates``) are *forced* through the simulator
(``POST /_sim/updates`` with ``force``): Telegram would not deliver them, but a bot must survive any update.

What must be answered, counted per update (the answer is read from the simulator's log of Bot API calls, after
the update was created):
  message from a user in the private chat (text, media, command, other content; not the payment service
  messages) → a message into that chat (sendMessage, editMessageText, sendInvoice, ...);
  callback_query → answerCallbackQuery with its id;
  pre_checkout_query → answerPreCheckoutQuery with its id (ok only for a genuine invoice: forged → declined).
Not answered by design (they must only not raise): edited messages, channel posts, inline queries (no inline
mode), my_chat_member, successful_payment (the top-up workflow speaks), unknown update types.

Each user sends one update at a time and waits for its answer, at most one flood-counted update per
``gap`` seconds (the bot's flood control allows 1 per second with a burst of 5): a dropped update would be
the flood control working, not a bug.

``python -m bench.fuzz_bot --updates N`` runs it on a fresh stack; ``make chaos`` runs it after the chaos run
on the same stack; ``tests/fuzz/test_bot_fuzz.py`` runs a short one inside ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import Check, Harness, buttons, failed, machine, print_checks, write_results
from billing import load_packages, make_order_reference
from bot import forms
from catalog import get_catalog
from db import check_invariant

ADMIN_ID = 777_000_001  # ADMIN_IDS of the stacks this fuzz runs on (the admin walk needs it)
BOT_USERNAME = "genflow_local_bot"  # the simulator's name for the bot
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
# Models the create walk goes through, in turn: between them every kind of form step (text, choice, yes/no,
# number, JSON, photo, several photos, video, audio), free and paid.
WALK_MODELS = [
    ("text-to-image", "nano-banana"),
    ("image-to-image", "nano-banana-edit"),
    ("image-to-image", "qwen-edit"),
    ("text-to-video", "kling26-t2v"),
    ("text-to-audio", "el-dialogue"),
    ("video-editing", "topaz-video-up"),
    ("audio-editing", "el-isolation"),
    ("text-to-image", "gpt4o-image"),
    ("text-to-audio", "el-tts-turbo"),
    ("audio-to-video", "kling-avatar"),
]
SCENARIOS = ["create", "topup", "misc", "create", "blocked", "create", "topup"]
# Form steps and screens every full run must have fuzzed (the short test checks the same list).
REQUIRED_STEPS = [
    "start",
    "formats",
    "models",
    "card",
    "form:text",
    "form:choice",
    "form:boolean",
    "form:number",
    "form:json",
    "form:media",
    "overview",
    "confirm",
    "topup",
    "invoice",
    "language",
    "blocked",
    "admin:panel",
    "admin:find",
    "admin:user",
    "admin:adjust",
    "admin:confirm",
]


@dataclass
class BotFuzzPlan:
    updates: int = 3000
    users: int = 45
    seed: int = 8
    gap: float = 1.05  # seconds between one user's flood-counted updates
    answer_timeout: float = 15.0
    real_payments: int = 4  # users who also pay an invoice for real (money a real flow moves)
    rss_margin_mb: float = 30.0
    warmup_share: float = 0.15  # RSS is measured from when this share of the updates was sent


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


@dataclass
class BotFuzzReport:
    updates: int
    categories: dict[str, int]
    cases: dict[str, int]
    steps: dict[str, int]
    update_types: dict[str, int]
    expected: dict[str, int]
    answered: dict[str, int]
    unanswered: list[dict[str, Any]]
    log_errors: list[str]
    log_warnings: dict[str, int]
    money: dict[str, Any]
    rss_before_mb: float
    rss_after_mb: float
    alive: bool
    seconds: float
    updates_per_second: float
    checks: list[Check] = field(default_factory=list)


# ---- watching the bot's Bot API calls -------------------------------------------------------------------
class CallWatch:
    """Reads the simulator's call log as it grows: outputs per chat, answered queries, the screens shown."""

    def __init__(self, h: Harness, start_seq: int) -> None:
        self.h = h
        self.seq = start_seq
        self.outputs: dict[int, list[int]] = {}  # chat -> seqs of calls that put something in it
        self.callback_answers: dict[str, int] = {}  # callback query id -> seq
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
            self.callback_answers.setdefault(str(params.get("callback_query_id")), call["seq"])
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


# ---- the run's shared state -----------------------------------------------------------------------------
class Run:
    def __init__(self, h: Harness, plan: BotFuzzPlan, watch: CallWatch) -> None:
        self.h = h
        self.plan = plan
        self.watch = watch
        self.catalog = get_catalog()
        self.packages = load_packages()
        self.secret = h.secret("callback")
        self.sent: list[Sent] = []
        self.steps: dict[str, int] = {}
        self.budget = plan.updates
        self.users: list[int] = []
        self.payers: set[int] = set()
        self.other_buttons: list[str] = []  # callback data seen on any user's screens
        self.invite_codes: dict[int, str] = {}
        self.warm = asyncio.Event()
        self.stop = False
        self.admin = _admin_id(h)

    def take(self) -> bool:
        if self.budget <= 0:
            return False
        self.budget -= 1
        if len(self.sent) >= self.plan.updates * self.plan.warmup_share:
            self.warm.set()
        return True

    def visit(self, step: str) -> None:
        self.steps[step] = self.steps.get(step, 0) + 1


def _admin_id(h: Harness) -> int | None:
    ids = [int(x) for x in re.findall(r"\d+", h.stack.env.get("ADMIN_IDS", ""))]
    return ids[0] if ids else None


# ---- one fuzz user ----------------------------------------------------------------------------------------
class FuzzUser:
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
        self, message_id: int, data: str, category: str, case: str, step: str, *, force: bool = True
    ) -> Sent | None:
        body = {"message_id": message_id, "data": data, "force": force}
        return await self._deliver(
            category,
            case,
            step,
            f"/_sim/users/{self.id}/callback",
            json=body,
            expect="callback",
            counted=True,
        )

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
    ) -> Sent | None:
        _must_parse(kind, payload)
        body = {"type": kind, "payload": payload, "force": force}
        return await self._deliver(
            category, case, step, "/_sim/updates", json=body, expect=expect, counted=counted
        )

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

    def screen(self, prefix: str) -> tuple[int, list[str]] | None:
        found = self.run.watch.screen(self.id, lambda d: d.startswith(prefix))
        if found:
            self.run.other_buttons.extend(found[1][:3])
            del self.run.other_buttons[:-500]
        return found

    async def tap(self, prefix: str, step: str, pick: Callable[[list[str]], str] | None = None) -> bool:
        """Press a button of the newest screen offering one that starts with ``prefix``."""
        found = self.screen(prefix)
        if found is None:
            return False
        message_id, data = found
        choices = [d for d in data if d.startswith(prefix)]
        choice = pick(choices) if pick else self.rng.choice(choices)
        sent = await self.press(message_id, choice, "walk", "button", step, force=False)
        return sent is not None

    # -- the walks -----------------------------------------------------------------------------------------
    async def live(self, index: int) -> None:
        language = self.rng.choice(["en", "ru", "en", "xx", None])
        name = self.rng.choice(["Fuzz", "فاز", "🦊" * 20, "<b>Ann</b>", "Ann {name} %s", "A" * 64])
        profile = {"first_name": name, "language_code": language} if language else {"first_name": name}
        async with self.h.http.put(f"{self.h.telegram}/_sim/users/{self.id}", json=profile) as response:
            await response.read()
        await self.text("/start", "walk", "start", "start")
        await self.fuzz("start")
        turn = index
        while not self.run.stop:
            if self.id == self.run.admin:
                await self.admin_walk()
            else:
                scenario = SCENARIOS[turn % len(SCENARIOS)]
                await getattr(self, f"{scenario}_walk")(turn)
            turn += 1

    async def create_walk(self, turn: int) -> None:
        fmt, code = WALK_MODELS[(turn // 2 + self.id) % len(WALK_MODELS)]
        await self.text("/create", "walk", "command", "formats")
        await self.fuzz("formats")
        if not await self.tap(f"c:f:{fmt}", "formats"):
            return
        await self.fuzz("models")
        if not await self.tap(f"c:m:{code}", "models"):
            return
        await self.fuzz("card")
        if not await self.tap(f"c:s:{code}", "card"):
            return
        visited: set[str] = set()
        for _ in range(14):
            if self.run.stop:
                return
            state, data = await self.fsm()
            form = forms.Form.from_data(data)
            if form is None or state is None:
                return  # a fuzzed /start or /cancel closed the form
            spec = self.run.catalog.models.get(form.model_id)
            if spec is None:
                return
            if state.endswith(":asking") and form.asking in spec.user_inputs:
                field_spec = spec.user_inputs[form.asking]
                kind = forms.field_kind(field_spec)
                await self.fuzz(f"form:{kind}", form=form, spec=spec)
                state2, data2 = await self.fsm()
                if data2.get(forms.FORM_KEY) != data.get(forms.FORM_KEY) or state2 != state:
                    continue  # the fuzz moved the form: look again
                await self.answer(form, spec, field_spec, kind)
            elif state.endswith(":overview"):
                await self.fuzz("overview", form=form, spec=spec)
                if await self.visit_optional(form, spec, visited):
                    continue
                if not await self.tap(f"f:{form.fid}:go", "overview") and not await self.tap(
                    f"f:{form.fid}:a:", "overview"
                ):
                    return
            elif state.endswith(":confirm"):
                await self.fuzz("confirm", form=form, spec=spec)
                price = self.run.catalog.price_rule(spec.id)
                balance = await self.h.pool.fetchval(
                    "SELECT balance FROM accounts WHERE user_id = $1", self.id
                )
                # Generate only when it cannot start anything: a paid model and no credits (the bot says so).
                if not price.free and not balance and form.key:
                    message = self.run.watch.last_message(self.id)
                    if message is not None:
                        await self.press(message, f"g:{form.key}", "walk", "generate_no_credits", "confirm")
                return
            else:
                return

    async def visit_optional(self, form: forms.Form, spec: Any, visited: set[str]) -> bool:
        """From the overview, open an input the form did not ask for: kinds no user reached yet first."""
        found = self.screen(f"f:{form.fid}:a:")
        if found is None:
            return False
        fresh, other = [], []
        for data in found[1]:
            index = data.rsplit(":", 1)[-1]
            field_spec = forms.field_at(spec, int(index)) if index.isdigit() else None
            if not data.startswith(f"f:{form.fid}:a:") or data in visited or field_spec is None:
                continue
            kind = forms.field_kind(field_spec)
            (fresh if self.run.steps.get(f"form:{kind}", 0) < 3 else other).append(data)
        if not fresh and (not other or self.rng.random() > 0.3):
            return False
        choice = self.rng.choice(fresh or other)
        visited.add(choice)
        return await self.tap(choice, "overview", lambda _choices: choice)

    async def answer(self, form: forms.Form, spec: Any, field_spec: Any, kind: str) -> None:
        step = f"form:{kind}"
        prefix = f"f:{form.fid}:"
        if kind == "choice":
            if not await self.tap(prefix + "v:", step):
                await self.text(str((field_spec.enum or ["x"])[0]), "walk", "typed_choice", step)
        elif kind == "boolean":
            if not await self.tap(prefix + "b:", step):
                await self.text("yes", "walk", "typed_boolean", step)
        elif kind == "number":
            low = field_spec.minimum if field_spec.minimum is not None else 0
            high = field_spec.maximum if field_spec.maximum is not None else low + 10
            value = (low + high) / 2
            text = str(int(value)) if field_spec.type == "integer" else f"{value:g}"
            await self.text(text, "walk", "number", step)
        elif kind == "json":
            await self.text('[{"text": "Hello there", "voice": "Rachel"}]', "walk", "json", step)
        elif kind == "media":
            if forms.file_count(form.values, field_spec.name) and await self.tap(prefix + "ok", step):
                return
            await self.good_media(spec, field_spec, step)
        else:
            await self.text(
                self.rng.choice(["a red fox in the snow", "a calm piano piece"]), "walk", "text", step
            )

    async def good_media(self, spec: Any, field_spec: Any, step: str) -> None:
        """A file this input accepts: a real small PNG upload, or a raw update with fitting metadata."""
        for kind, mime in (
            ("photo", "image/jpeg"),
            ("video", "video/mp4"),
            ("audio", "audio/mpeg"),
            ("document", "image/png"),
            ("voice", "audio/ogg"),
        ):
            if self.run.catalog.check_media(spec.id, field_spec.name, kind=kind, mime_type=mime, size=50_000):
                continue
            if kind == "photo" and self.rng.random() < 0.5:
                from simulators.telegram.testing import make_png

                await self.upload("photo", make_png(320, 240), "p.png", "walk", "upload_photo", step)
                return
            await self.raw(
                "message",
                {"from": self.me(), **_media(kind, mime, 50_000, self.rng)},
                "walk",
                f"media_{kind}",
                step,
                expect="message",
                counted=True,
            )
            return

    async def topup_walk(self, turn: int) -> None:
        await self.text("/topup", "walk", "command", "topup")
        await self.fuzz("topup")
        package = self.rng.choice(self.run.packages.package)
        if not await self.tap(f"topup:buy:{package.id}", "topup"):
            return
        invoices = self.run.watch.invoices.get(self.id) or []
        if not invoices:
            return
        await self.fuzz("invoice", invoice=invoices[-1])
        if not self.paid and len(self.run.payers) < self.run.plan.real_payments:
            self.run.payers.add(self.id)
            self.paid = True
            sent = await self._deliver(
                "walk",
                "pay",
                "invoice",
                f"/_sim/users/{self.id}/pay",
                json={"message_id": invoices[-1]},
                expect="pre_checkout",
                counted=False,
            )
            if sent is not None:  # until the workflow credited it and told the user (not another answer)
                await self._wait_credited()

    async def _wait_credited(self) -> None:
        deadline = time.monotonic() + 30
        before = len(self.run.watch.outputs.get(self.id, []))
        while time.monotonic() < deadline:
            entries = await self.h.pool.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE user_id = $1 AND kind = 'topup'", self.id
            )
            if entries and len(self.run.watch.outputs.get(self.id, [])) > before:
                await asyncio.sleep(0.3)
                return
            await asyncio.sleep(0.3)

    async def misc_walk(self, turn: int) -> None:
        await self.text("/language", "walk", "command", "language")
        await self.fuzz("language")
        await self.tap("lang:", "language")
        for command, step in (
            ("/balance", "balance"),
            ("/history", "history"),
            ("/help", "help"),
            ("/invite", "invite"),
        ):
            if self.run.stop:
                return
            await self.text(command, "walk", "command", step)
            await self.fuzz(step, count=1)
        for text in reversed(self.run.watch.texts.get(self.id, [])):
            if match := re.search(r"start=ref_(\w+)", text):
                self.run.invite_codes[self.id] = match.group(1)
                break

    async def blocked_walk(self, turn: int) -> None:
        """The user blocks the bot (my_chat_member kicked): its messages fail with 403, buttons still get an
        answer; writing again unblocks it (Telegram does the same)."""
        await self.text("/menu", "walk", "command", "blocked")
        self.run.visit("blocked")
        async with self.h.http.post(f"{self.h.telegram}/_sim/users/{self.id}/block") as response:
            await response.read()
        self.blocked = True
        await self.raw(
            "my_chat_member",
            _chat_member(self.me(), "member", "kicked"),
            "my_chat_member",
            "kicked",
            "blocked",
            expect=None,
            counted=False,
        )
        for _ in range(self.rng.randint(1, 3)):
            found = self.screen("")
            if found is None or self.run.stop:
                break
            await self.press(
                found[0], self.rng.choice(found[1]), "stale_callback", "while_blocked", "blocked"
            )
        async with self.h.http.post(f"{self.h.telegram}/_sim/users/{self.id}/unblock") as response:
            await response.read()
        self.blocked = False
        await self.raw(
            "my_chat_member",
            _chat_member(self.me(), "kicked", "member"),
            "my_chat_member",
            "restarted",
            "blocked",
            expect=None,
            counted=False,
        )

    async def admin_walk(self) -> None:
        await self.text("/admin", "walk", "command", "admin:panel")
        await self.fuzz("admin:panel")
        if not await self.tap("adm:find", "admin:panel"):
            return
        await self.fuzz("admin:find")
        state, _data = await self.fsm()
        if state != "AdminStates:user":
            return
        target = self.rng.choice([u for u in self.run.users if u != self.id] or [self.id])
        await self.text(str(target), "walk", "user_id", "admin:find")
        await self.fuzz("admin:user")
        if not await self.tap("adm:adj:", "admin:user"):
            return
        await self.fuzz("admin:adjust")
        state, _data = await self.fsm()
        if state != "AdminStates:adjust":
            return
        await self.text("+5 fuzz check", "walk", "adjustment", "admin:adjust")
        await self.fuzz("admin:confirm")
        await self.tap("adm:no", "admin:confirm")  # never confirmed: no money moves

    # -- the faults --------------------------------------------------------------------------------------
    async def fuzz(
        self,
        step: str,
        *,
        count: int | None = None,
        form: Any = None,
        spec: Any = None,
        invoice: int | None = None,
    ) -> None:
        self.run.visit(step)
        makers: list[tuple[Callable[..., Any], int]] = [
            (self.fuzz_text, 14),
            (self.fuzz_media, 10),
            (self.fuzz_command, 8),
            (self.fuzz_stale, 6),
            (self.fuzz_forged_callback, 10),
            (self.fuzz_edited, 3),
            (self.fuzz_channel_post, 2),
            (self.fuzz_inline, 2),
            (self.fuzz_unknown, 3),
            (self.fuzz_pre_checkout, 3),
            (self.fuzz_successful_payment, 2),
        ]
        if form is not None:
            makers.append((self.fuzz_form_ops, 14))
        if step.startswith("admin:"):
            makers.append((self.fuzz_admin, 16))
        if step == "invoice":
            makers += [(self.fuzz_pre_checkout, 12), (self.fuzz_successful_payment, 6)]
        functions, weights = [m for m, _ in makers], [w for _, w in makers]
        for _ in range(count if count is not None else self.rng.randint(1, 3)):
            if self.run.stop:
                return
            maker = self.rng.choices(functions, weights)[0]
            await maker(step, form=form, spec=spec, invoice=invoice)

    async def fuzz_text(self, step: str, **_: Any) -> None:
        cases = {
            "blank": " ",
            "zero_width": "\u200b\u200c\u2060",
            "newlines": "\n\n\n.",
            "max_4096": "ж" * 4096,
            "huge_10000": "x" * 10_000,
            "combining": "Z̷̢̛̪̙̼͎͇̮̲̮͇̈́̈́̓̽̿a̸l̷g̶o̶" * 20,
            "rtl": "\u202eمرحبا بالعالم\u202c שלום",
            "emoji": "👩‍👩‍👧‍👦🏳️‍🌈🦊" * 30,
            "markdown": "*bold* _it_ `code` [link](tg://user?id=1) ||spoiler|| \\",
            "html": "<b>x</b><script>alert(1)</script></code>&amp;&lt;",
            "format_braces": "{name} {0} {} %s %(x)s {{",
            "digits_other_scripts": self.rng.choice(["٣", "²", "߃", "①", "١٢٣", "99999999999999999999999"]),
            "numbers": self.rng.choice(["-1", "0", "1e309", "NaN", "inf", "0x10", "1_000", "3.14159"]),
            "json": self.rng.choice(["[", "{}", "[{}]", '[{"text": 1}]', "null", "[" * 500]),
            "yes_no": self.rng.choice(["да", "YES", "нет", "off"]),
            "sql": "'; DROP TABLE accounts; --",
        }
        case = self.rng.choice(sorted(cases))
        await self.text(cases[case], "text", case, step)

    async def fuzz_media(self, step: str, **_: Any) -> None:
        rng = self.rng
        cases: dict[str, Callable[[], dict[str, Any]]] = {
            "photo_oversized": lambda: _media("photo", None, 30_000_000, rng),
            "photo_no_size": lambda: _media("photo", None, None, rng),
            "document_exe": lambda: _media("document", "application/x-msdownload", 120_000, rng),
            "document_image_huge": lambda: _media("document", "image/png", 2_000_000_000, rng),
            "video_wrong_mime": lambda: _media("video", "image/png", 3_000_000, rng),
            "video_oversized": lambda: _media("video", "video/mp4", 900_000_000, rng),
            "audio_wrong_mime": lambda: _media("audio", "text/plain", 10_000, rng),
            "audio_zero": lambda: _media("audio", "audio/mpeg", 0, rng),
            "voice": lambda: _media("voice", "audio/ogg", 40_000, rng),
            "video_note": lambda: _media("video_note", None, 800_000, rng),
            "animation": lambda: _media("animation", "video/mp4", 500_000, rng),
            "sticker": lambda: _media("sticker", None, 20_000, rng),
            "contact": lambda: {"contact": {"phone_number": "+100000000", "first_name": "X", "user_id": 1}},
            "location": lambda: {"location": {"latitude": 91.5, "longitude": -181.0}},
            "dice": lambda: {"dice": {"emoji": "🎲", "value": 6}},
            "caption_only_huge": lambda: {**_media("photo", None, 1000, rng), "caption": "c" * 1024},
            "media_group": lambda: {
                **_media("photo", None, 1000, rng),
                "media_group_id": str(rng.randint(1, 10**12)),
            },
        }
        if rng.random() < 0.15:
            from simulators.telegram.testing import make_png

            await self.upload(
                "document", make_png(64, 48), "not-a-photo.exe", "media", "upload_document", step
            )
            return
        case = rng.choice(sorted(cases))
        await self.raw(
            "message",
            {"from": self.me(), **cases[case]()},
            "media",
            case,
            step,
            expect="message",
            counted=True,
        )

    async def fuzz_command(self, step: str, **_: Any) -> None:
        known = [
            "/start",
            "/menu",
            "/cancel",
            "/create",
            "/balance",
            "/topup",
            "/invite",
            "/history",
            "/language",
            "/help",
            "/paysupport",
            "/admin",
        ]
        rng = self.rng
        code = self.run.invite_codes.get(rng.choice(self.run.users)) if self.run.invite_codes else None
        cases = {
            "known": rng.choice(known),
            "known_with_args": rng.choice(known) + " " + rng.choice(["x", "1 2 3", "ref_", "🦊", "a" * 300]),
            "at_our_name": rng.choice(known) + f"@{BOT_USERNAME}",
            "at_other_bot": rng.choice(known) + "@someone_else_bot",
            "unknown": rng.choice(["/nosuchcommand", "/", "/_", "/ÿ", "/start_", "/123", "/" + "a" * 40]),
            "start_payload": "/start " + rng.choice(["ref_", "ref_zzzz", "ref_" + "9" * 60, "x" * 64, "-_-"]),
            "start_invite": f"/start ref_{code}" if code else "/start ref_nobody",
            "paysupport_question": "/paysupport " + rng.choice(["refund please", "?" * 3000, "<b>hi</b>"]),
            "admin_args": "/admin "
            + rng.choice(["user 1", "user ²", "adjust 1 +5 x", "stuck", "reply 1 hi", "x"]),
        }
        case = rng.choice(sorted(cases))
        await self.text(cases[case], "command", case, step)

    async def fuzz_stale(self, step: str, **_: Any) -> None:
        chat = self.run.watch.screens.get(self.id, {})
        older = [
            (mid, d)
            for mid in self.run.watch.latest.get(self.id, [])[:-1]
            for d in buttons(chat.get(mid) or {})
        ]
        if not older:
            return await self.fuzz_forged_callback(step)
        message_id, data = self.rng.choice(older)
        await self.press(message_id, data, "stale_callback", "older_screen", step)

    async def fuzz_forged_callback(self, step: str, **_: Any) -> None:
        message_id = self.run.watch.last_message(self.id)
        rng = self.rng
        cases = {
            "other_users_button": rng.choice(self.run.other_buttons)
            if self.run.other_buttons
            else "menu:home",
            "garbage": "".join(rng.choice("abc:/\\%$#@!🦊 ") for _ in range(rng.randint(1, 40))),
            "empty": "",
            "max_64_bytes": ("f:" + "0" * 62)[:64],
            "unknown_prefix": rng.choice(
                [
                    "zz:1",
                    "menu:",
                    "menu:nope",
                    "c:",
                    "c:x:y",
                    "topup:buy:",
                    "topup:buy:s0",
                    "lang:",
                    "lang:de",
                    "adm:u:1",
                    "adm:ok:x",
                    "h:r:",
                    "gen:cancel:",
                    "gen:again:gen-1-x",
                    "g:",
                    "f:",
                    "f::",
                    "f:x:y:z:w",
                ]
            ),
            "other_generation": rng.choice(["gen:cancel:", "gen:again:", "h:r:"])
            + f"gen-{rng.choice(self.run.users)}-{rng.getrandbits(32):08x}",
            "own_generation": rng.choice(["gen:cancel:", "gen:again:", "h:r:"])
            + f"gen-{self.id}-{rng.getrandbits(32):08x}",
        }
        case = rng.choice(sorted(cases))
        if message_id is None or rng.random() < 0.1:  # a button of an inline message: no message at all
            payload = {
                "from": self.me(),
                "chat_instance": "1",
                "inline_message_id": "AAAA",
                "data": cases[case],
            }
            await self.raw(
                "callback_query",
                payload,
                "forged_callback",
                "inline_" + case,
                step,
                expect="callback",
                counted=True,
            )
            return
        await self.press(message_id, cases[case], "forged_callback", case, step)

    async def fuzz_form_ops(self, step: str, *, form: Any = None, spec: Any = None, **_: Any) -> None:
        if form is None or spec is None:
            return await self.fuzz_forged_callback(step)
        rng = self.rng
        fid = form.fid
        n = len(spec.user_inputs)
        i = rng.randrange(n)
        cases = {
            "index_out_of_range": f"f:{fid}:a:{n + rng.randint(0, 5)}",
            "non_ascii_digit": f"f:{fid}:{rng.choice('advpb')}:{rng.choice(['²', '٣', '①'])}",
            "huge_number": f"f:{fid}:p:{i}:{'9' * rng.randint(12, 40)}",
            "negative": f"f:{fid}:v:{i}:-1",
            "value_out_of_range": f"f:{fid}:v:{i}:{rng.randint(50, 10**6)}",
            "bool_out_of_range": f"f:{fid}:b:{i}:{rng.randint(2, 9)}",
            "other_question": f"f:{fid}:v:{(i + 1) % n}:0",
            "clear_required": f"f:{fid}:d:{i}",
            "go_early": f"f:{fid}:go",
            "ok_not_asking": f"f:{fid}:ok",
            "extra_args": f"f:{fid}:ov:1:2:3",
            "old_form": f"f:{fid[::-1]}:ov",
            "confirmation_key": f"g:{form.key or 'nokey'}{rng.choice(['', 'x'])}",
        }
        case = rng.choice(sorted(cases))
        message_id = self.run.watch.last_message(self.id)
        if message_id is None:
            return
        await self.press(message_id, cases[case], "forged_callback", "form_" + case, step)

    async def fuzz_admin(self, step: str, **_: Any) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            text = rng.choice(
                [
                    "²",
                    "٣",
                    "99999999999999999999",
                    "-5",
                    "0",
                    "+²",
                    "+0 x",
                    "+9999999999 x",
                    "+5",
                    "+5 " + "r" * 600,
                    "abc",
                    "1 2",
                ]
            )
            await self.text(text, "text", "admin_input", step)
            return
        data = rng.choice(
            [
                "adm:u:abc",
                "adm:u:",
                "adm:u:-5",
                "adm:u:99999999999999999999",
                "adm:u:²",
                "adm:adj:x",
                "adm:adj:99999999999999999999",
                "adm:rg:1:zzz",
                "adm:rg:abc",
                "adm:rt:",
                "adm:rt:1:",
                "adm:ok:wrong",
                "adm:ok:",
                "adm:stuck",
                "adm:panel",
            ]
        )
        message_id = self.run.watch.last_message(self.id)
        if message_id is not None:
            await self.press(message_id, data, "forged_callback", "admin_" + data.split(":")[1], step)

    async def fuzz_edited(self, step: str, **_: Any) -> None:
        payload = {
            "from": self.me(),
            "text": self.rng.choice(["/start", "edited", "x" * 5000]),
            "edit_date": int(time.time()),
        }
        await self.raw(
            "edited_message", payload, "edited_message", "edited", step, expect=None, counted=False
        )

    async def fuzz_channel_post(self, step: str, **_: Any) -> None:
        chat = {"id": -1001234567890, "type": "channel", "title": "Fuzz channel"}
        kind = self.rng.choice(["channel_post", "edited_channel_post"])
        payload = {"chat": chat, "text": self.rng.choice(["/start", "post", "/admin"]), "sender_chat": chat}
        await self.raw(kind, payload, "channel_post", kind, step, expect=None, counted=False)

    async def fuzz_inline(self, step: str, **_: Any) -> None:
        kind = self.rng.choice(["inline_query", "chosen_inline_result"])
        if kind == "inline_query":
            payload = {"from": self.me(), "query": self.rng.choice(["", "fox", "🦊" * 64]), "offset": ""}
        else:
            payload = {"result_id": "1", "from": self.me(), "query": "fox"}
        await self.raw(kind, payload, "inline_query", kind, step, expect=None, counted=False)

    async def fuzz_unknown(self, step: str, **_: Any) -> None:
        rng = self.rng
        cases = {
            "future_type": ("some_future_update", {"from": self.me(), "x": [1, {"y": None}]}),
            "poll": (
                "poll",
                {
                    "id": "1",
                    "question": "?",
                    "options": [],
                    "total_voter_count": 0,
                    "is_closed": True,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                },
            ),
            "message_reaction": (
                "message_reaction",
                {
                    "chat": {"id": self.id, "type": "private"},
                    "message_id": 1,
                    "user": self.me(),
                    "date": int(time.time()),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                },
            ),
            "chat_join_request": (
                "chat_join_request",
                {
                    "chat": {"id": -100, "type": "supergroup", "title": "g"},
                    "from": self.me(),
                    "user_chat_id": self.id,
                    "date": int(time.time()),
                },
            ),
            "shipping_query": (
                "shipping_query",
                {
                    "from": self.me(),
                    "invoice_payload": "x",
                    "shipping_address": {
                        "country_code": "XX",
                        "state": "",
                        "city": "c",
                        "street_line1": "s",
                        "street_line2": "",
                        "post_code": "0",
                    },
                },
            ),
        }
        case = rng.choice(sorted(cases))
        kind, payload = cases[case]
        await self.raw(kind, payload, "unknown_update", case, step, expect=None, counted=False)

    def _forged_payload(self) -> tuple[str, str, int, str]:
        """(case, payload, amount, currency): never a genuine order of this user at its price."""
        rng = self.rng
        package = rng.choice(self.run.packages.package)
        now = int(time.time())
        other = rng.choice([u for u in self.run.users if u != self.id] or [1])
        genuine = make_order_reference(self.run.secret, package.id, self.id, now + 3600)
        cases = {
            "garbage": (
                "".join(rng.choice("abc.123") for _ in range(rng.randint(0, 128))),
                package.stars,
                "XTR",
            ),
            "other_users_order": (
                make_order_reference(self.run.secret, package.id, other, now + 3600),
                package.stars,
                "XTR",
            ),
            "tampered_signature": (
                genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
                package.stars,
                "XTR",
            ),
            "other_secret": (
                make_order_reference("not-our-secret", package.id, self.id, now + 3600),
                package.stars,
                "XTR",
            ),
            "wrong_amount": (genuine, package.stars + rng.choice([-1, 1, 1000]), "XTR"),
            "wrong_currency": (genuine, package.stars, "USD"),
            "unknown_package": (make_order_reference(self.run.secret, "s0", self.id, now + 3600), 1, "XTR"),
            "expired": (
                make_order_reference(self.run.secret, package.id, self.id, now - 10),
                package.stars,
                "XTR",
            ),
        }
        case = rng.choice(sorted(cases))
        return (case, *cases[case])

    async def fuzz_pre_checkout(self, step: str, **_: Any) -> None:
        case, payload, amount, currency = self._forged_payload()
        body = {"from": self.me(), "currency": currency, "total_amount": amount, "invoice_payload": payload}
        sent = await self.raw(
            "pre_checkout_query",
            body,
            "pre_checkout_forged",
            case,
            step,
            expect="pre_checkout",
            counted=False,
            force=False,
        )
        if sent is not None:
            sent.forged_payment = True

    async def fuzz_successful_payment(self, step: str, **_: Any) -> None:
        case, payload, amount, currency = self._forged_payload()
        if case == "expired":  # a genuine order of this user: only Telegram's charge could make it forged
            case, payload = "garbage", "forged"
        payment = {
            "currency": currency,
            "total_amount": amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": f"stxFUZZ{self.rng.getrandbits(64):016x}",
            "provider_payment_charge_id": "",
        }
        sent = await self.raw(
            "message",
            {"from": self.me(), "successful_payment": payment},
            "successful_payment_forged",
            case,
            step,
            expect=None,
            counted=False,
        )
        if sent is not None:
            sent.forged_payment = True


def _media(kind: str, mime: str | None, size: int | None, rng: random.Random) -> dict[str, Any]:
    file_id = f"FUZZ{kind}{rng.getrandbits(64):016x}"
    base: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id[-12:]}
    if size is not None:
        base["file_size"] = size
    if kind == "photo":
        return {"photo": [{**base, "width": 90, "height": 60}, {**base, "width": 4000, "height": 3000}]}
    if kind == "sticker":
        return {
            "sticker": {
                **base,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "🦊",
            }
        }
    if kind == "video_note":
        return {"video_note": {**base, "length": 240, "duration": 3}}
    if mime is not None:
        base["mime_type"] = mime
    if kind in ("video", "animation"):
        return {kind: {**base, "width": 640, "height": 480, "duration": 5}}
    if kind in ("audio", "voice"):
        return {kind: {**base, "duration": 5}}
    return {kind: {**base, "file_name": "file.bin"}}


def _must_parse(kind: str, payload: dict[str, Any]) -> None:
    """Raw updates are the Bot API's shapes: one aiogram cannot read stops its polling for good
    (getUpdates fails on the whole batch, the update is never confirmed): the fuzzer's mistake, not the bot's.
    """
    from aiogram.types import Update

    probe = dict(payload)
    if kind.endswith(("message", "channel_post")):
        probe = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, **probe}
    if kind in ("callback_query", "pre_checkout_query", "inline_query", "shipping_query"):
        probe.setdefault("id", "1")
    Update.model_validate({"update_id": 1, kind: probe})


def _chat_member(user: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    bot = {"id": 1, "is_bot": True, "first_name": "Genflow", "username": BOT_USERNAME}
    return {
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "from": user,
        "date": int(time.time()),
        "old_chat_member": {"status": old, "user": bot, **({"until_date": 0} if old == "kicked" else {})},
        "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
    }


# ---- the run ---------------------------------------------------------------------------------------------
async def run_bot_fuzz(
    h: Harness, plan: BotFuzzPlan, *, say: Callable[[str], None] = lambda _t: None
) -> BotFuzzReport:
    began = time.monotonic()
    log_path = Path(h.stack.data_dir) / "logs" / "bot.log"
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    watch = CallWatch(h, await _last_call_seq(h))
    run = Run(h, plan, watch)
    base = 5_000_000_000 + (plan.seed % 100_000) * 1000
    run.users = [base + i for i in range(plan.users)]
    if run.admin is not None:
        run.users.append(run.admin)
    rngs = {u: random.Random(f"{plan.seed}:{u}") for u in run.users}
    # A user with a stored language and one the bot meets for the first time, in turn.
    for index, user in enumerate(run.users):
        if index % 2 == 0:
            await h.new_user(credits=0, user_id=user)
    credits_before = await _credits(h, run.users)
    watcher = asyncio.create_task(watch.run())
    rss_before = h.rss_mb("bot")

    async def sample_rss() -> None:
        nonlocal rss_before
        await run.warm.wait()
        await asyncio.sleep(1.0)
        rss_before = h.rss_mb("bot")

    sampler = asyncio.create_task(sample_rss())
    say(f"bot fuzz: {plan.updates} updates from {len(run.users)} users")
    users = [FuzzUser(run, u, rngs[u]) for u in run.users]
    tasks = []
    for index, user in enumerate(users):
        tasks.append(asyncio.create_task(_guard(user.live(index))))
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    sent_seconds = time.monotonic() - began
    say(f"bot fuzz: {len(run.sent)} updates sent in {sent_seconds:.0f} s; settling")
    # Unanswered ones get a last chance; then money: the forged payments' top-up workflows must have closed.
    await watch.wait(lambda: all(watch.answered(s) for s in run.sent if s.expect), plan.answer_timeout)
    for sent in run.sent:
        if sent.expect and not sent.answered:
            sent.answered = watch.answered(sent)
    for _ in range(60):
        if not await h.count('WorkflowType = "TopUpWorkflow" AND ExecutionStatus = "Running"'):
            break
        await asyncio.sleep(1)
    await asyncio.sleep(0.5)
    rss_after = h.rss_mb("bot") if h.alive("bot") else float("nan")
    watch.stopped = True
    watcher.cancel()
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    money = await _money(h, run, credits_before)
    errors, warnings = _read_log(log_path, log_offset)
    pending = [
        u for u in (await h.telegram_get("/_sim/updates"))["updates"] if _update_user(u) in set(run.users)
    ]
    report = _report(run, money, errors, warnings, rss_before, rss_after, h.alive("bot"), began, sent_seconds)
    report.money["pending_updates_left"] = len(pending)
    report.checks = _checks(report, plan, run)
    return report


async def _guard(coro: Any) -> None:
    try:
        await coro
    except (aiohttp.ClientError, TimeoutError):  # the simulator went away: the checks will say so
        pass


async def _last_call_seq(h: Harness) -> int:
    calls = await h.telegram_calls(after=0)
    return calls[-1]["seq"] if calls else 0


def _update_user(update: dict[str, Any]) -> int | None:
    for value in update.values():
        if isinstance(value, dict):
            sender = value.get("from") or {}
            return sender.get("id")
    return None


async def _credits(h: Harness, users: list[int]) -> dict[int, int]:
    rows = await h.pool.fetch("SELECT user_id, balance FROM accounts WHERE user_id = ANY($1)", users)
    return {r["user_id"]: r["balance"] for r in rows}


async def _money(h: Harness, run: Run, credits_before: dict[int, int]) -> dict[str, Any]:
    """Every ledger entry of a fuzz user is a genuine payment's top-up (or its referral bonus)."""
    users = run.users
    payments = [p for p in (await h.telegram_get("/_sim/payments"))["payments"] if p["user"] in users]
    charges = {p["charge_id"]: p for p in payments}
    entries = await h.pool.fetch(
        "SELECT user_id, kind, amount, idempotency_key AS key FROM ledger_entries WHERE user_id = ANY($1)",
        users,
    )
    referrers = {
        r["user_id"]: r["referrer_id"]
        for r in await h.pool.fetch("SELECT id AS user_id, referrer_id FROM users WHERE id = ANY($1)", users)
    }
    unexplained = []
    for entry in entries:
        key = entry["key"]
        if entry["kind"] == "topup" and key.removeprefix("topup:") in charges:
            if charges[key.removeprefix("topup:")]["user"] == entry["user_id"]:
                continue
        if entry["kind"] == "bonus" and key.startswith("referral:"):
            payment = charges.get(key.removeprefix("referral:"))
            if payment and referrers.get(payment["user"]) == entry["user_id"]:
                continue
        unexplained.append({k: entry[k] for k in ("user_id", "kind", "amount", "key")})
    forged = [s for s in run.sent if s.forged_payment]
    approved = [
        s.case
        for s in forged
        if s.kind == "pre_checkout_query"
        and run.watch.pre_checkout_answers.get(s.query_id or "", (0, False))[1]
    ]
    genuine_pre = [s for s in run.sent if s.kind == "pre_checkout_query" and not s.forged_payment]
    violations = [v for v in await check_invariant(h.pool) if v.user_id in set(users)]
    after = await _credits(h, users)
    return {
        "real_payments": len(charges),
        "genuine_pre_checkouts": len(genuine_pre),
        "genuine_approved": sum(
            1 for s in genuine_pre if run.watch.pre_checkout_answers.get(s.query_id or "", (0, False))[1]
        ),
        "forged_pre_checkouts": sum(1 for s in forged if s.kind == "pre_checkout_query"),
        "forged_successful_payments": sum(1 for s in forged if s.kind == "message"),
        "forged_approved": approved,
        "ledger_entries": len(entries),
        "unexplained_entries": unexplained[:10],
        "unexplained_count": len(unexplained),
        "invariant_violations": [str(v) for v in violations[:5]],
        "credits_before": sum(credits_before.values()),
        "credits_after": sum(after.values()),
    }


_LEVEL = re.compile(r"^\d\d:\d\d:\d\d (ERROR|CRITICAL|WARNING)\s+\S+ (\S+):")


def _read_log(path: Path, offset: int) -> tuple[list[str], dict[str, int]]:
    """ERROR/CRITICAL lines, tracebacks and aiogram's "Cause exception" after ``offset``; warnings by
    logger."""
    if not path.exists():
        return ["no bot log"], {}
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    errors: list[str] = []
    warnings: dict[str, int] = {}
    for line in text.splitlines():
        match = _LEVEL.match(line)
        if match and match.group(1) == "WARNING":
            warnings[match.group(2)] = warnings.get(match.group(2), 0) + 1
        elif match or "Traceback (most recent call last)" in line or "Cause exception" in line:
            errors.append(line[:300])
    return errors, warnings


def _count(items: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))


def _report(
    run: Run,
    money: dict[str, Any],
    errors: list[str],
    warnings: dict[str, int],
    rss_before: float,
    rss_after: float,
    alive: bool,
    began: float,
    sent_seconds: float,
) -> BotFuzzReport:
    sent = run.sent
    expecting = [s for s in sent if s.expect]
    unanswered = [
        {
            "user": s.user,
            "category": s.category,
            "case": s.case,
            "step": s.step,
            "kind": s.kind,
            "update_id": s.update_id,
        }
        for s in expecting
        if not s.answered
    ]
    return BotFuzzReport(
        updates=len(sent),
        categories=_count([s.category for s in sent]),
        cases=_count([f"{s.category}/{s.case}" for s in sent]),
        steps=dict(sorted(run.steps.items())),
        update_types=_count([s.kind for s in sent]),
        expected=_count([s.expect or "" for s in expecting]),
        answered=_count([s.expect or "" for s in expecting if s.answered]),
        unanswered=unanswered,
        log_errors=errors,
        log_warnings=warnings,
        money=money,
        rss_before_mb=round(rss_before, 1),
        rss_after_mb=round(rss_after, 1),
        alive=alive,
        seconds=round(time.monotonic() - began, 1),
        updates_per_second=round(len(sent) / max(sent_seconds, 1e-9), 1),
    )


def _checks(r: BotFuzzReport, plan: BotFuzzPlan, run: Run) -> list[Check]:
    def check(name: str, ok: bool, detail: str) -> Check:
        return Check(name, "PASS" if ok else "FAIL", detail)

    expected, answered = sum(r.expected.values()), sum(r.answered.values())
    money = r.money
    missing_steps = [
        s for s in REQUIRED_STEPS if not r.steps.get(s) and (run.admin or not s.startswith("admin:"))
    ]
    growth = r.rss_after_mb - r.rss_before_mb
    return [
        check(
            "every update that expects an answer got one",
            expected > 0 and not r.unanswered,
            f"{answered} of {expected} answered (messages {r.answered.get('message', 0)}/"
            f"{r.expected.get('message', 0)}, callback queries {r.answered.get('callback', 0)}/"
            f"{r.expected.get('callback', 0)}, pre-checkout queries {r.answered.get('pre_checkout', 0)}/"
            f"{r.expected.get('pre_checkout', 0)}); {r.updates - expected} need no answer; "
            f"{money.get('pending_updates_left', 0)} left undelivered"
            + (f"; unanswered e.g. {r.unanswered[:3]}" if r.unanswered else ""),
        ),
        check(
            "no unhandled exception in the bot's log",
            not r.log_errors,
            f"{len(r.log_errors)} error line(s)"
            + (f", e.g. {r.log_errors[:2]}" if r.log_errors else "")
            + f"; warnings by logger {r.log_warnings}",
        ),
        check("bot process alive", r.alive, "alive" if r.alive else "DEAD"),
        check(
            "forged payments: declined, nothing credited",
            not money["forged_approved"]
            and money["forged_pre_checkouts"] + money["forged_successful_payments"] > 0,
            f"{money['forged_pre_checkouts']} forged pre-checkout queries, "
            f"{len(money['forged_approved'])} approved; {money['forged_successful_payments']} forged "
            f"successful_payment updates; genuine pre-checkouts approved {money['genuine_approved']}/"
            f"{money['genuine_pre_checkouts']}",
        ),
        check(
            "no money moved but by real payments",
            not money["unexplained_count"] and not money["invariant_violations"],
            f"{money['ledger_entries']} ledger entries of fuzz users, "
            f"{money['real_payments']} real payment(s); "
            f"{money['unexplained_count']} unexplained {money['unexplained_entries'][:2]}; "
            f"invariant violations {len(money['invariant_violations'])}; credits {money['credits_before']} → "
            f"{money['credits_after']}",
        ),
        check(
            "bot memory flat",
            growth <= plan.rss_margin_mb,
            f"RSS {r.rss_before_mb} → {r.rss_after_mb} MB after the warm-up (margin {plan.rss_margin_mb} MB)",
        ),
        check(
            "every step fuzzed",
            not missing_steps,
            f"{len(r.steps)} steps: {r.steps}"
            + (f"; never reached {missing_steps}" if missing_steps else ""),
        ),
    ]


# ---- command line ------------------------------------------------------------------------------------------
def print_report(report: BotFuzzReport, title: str) -> None:
    print_checks(title, report.checks)
    print(f"  categories: {report.categories}")
    print(f"  update types: {report.update_types}")
    print(f"  answered: {report.answered} of {report.expected}")
    print(f"  {report.updates} updates in {report.seconds} s ({report.updates_per_second}/s)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz_bot", description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=BotFuzzPlan.updates)
    parser.add_argument("--users", type=int, default=BotFuzzPlan.users)
    parser.add_argument("--seed", type=int, default=BotFuzzPlan.seed)
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs) afterwards")
    args = parser.parse_args(argv)

    async def go() -> int:
        plan = BotFuzzPlan(updates=args.updates, users=args.users, seed=args.seed)
        async with Harness.start(
            prefix="genflow-fuzz-bot-",
            processes=("worker", "telegram-worker", "webhooks", "bot"),
            extra_env={"ADMIN_IDS": str(ADMIN_ID)},
            keep=args.keep,
        ) as h:
            if args.keep:
                print(f"stack directory: {h.stack.data_dir}", flush=True)
            report = await run_bot_fuzz(
                h, plan, say=lambda t: print(f"[fuzz-bot {time.strftime('%H:%M:%S')}] {t}")
            )
        print_report(report, f"Bot fuzz: {plan.updates} updates, {plan.users} users, seed {plan.seed}")
        payload = {
            "machine": machine(),
            "command": "python -m bench.fuzz_bot " + " ".join(sys.argv[1:]),
            "plan": asdict(plan),
            "bot_fuzz": asdict(report),
        }
        path = write_results("fuzz-bot", payload)
        print(f"results: {path.relative_to(path.parents[2])}", flush=True)
        return 1 if failed(report.checks) else 0

    code = asyncio.run(go())
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
