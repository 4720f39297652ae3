"""A fuzz user's life: /start, then the scenarios in turn (create, top up and pay, language and the other
commands, blocking the bot), or the admin panel for the admin; every button pressed through
``contracts.buttons``."""

from __future__ import annotations

import asyncio
import re
import time

from contracts.buttons import AdminAction, AdminOp, BuyPackage, SetLanguage
from testkit.bot_fuzz.create_walk import CreateWalk
from testkit.bot_fuzz.plan import SCENARIOS
from testkit.bot_fuzz.updates import chat_member
from testkit.bot_fuzz.user import button_of


class Walks(CreateWalk):
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

    async def topup_walk(self, turn: int) -> None:
        await self.text("/topup", "walk", "command", "topup")
        await self.fuzz("topup")
        package = self.rng.choice(self.run.packages.package)
        if not await self.tap(button_of(BuyPackage, package=package.id), "topup"):
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
        await self.tap(button_of(SetLanguage), "language")
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
            chat_member(self.me(), "member", "kicked"),
            "my_chat_member",
            "kicked",
            "blocked",
            expect=None,
            counted=False,
        )
        for _ in range(self.rng.randint(1, 3)):
            found = self.screen(lambda _data: True)
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
            chat_member(self.me(), "kicked", "member"),
            "my_chat_member",
            "restarted",
            "blocked",
            expect=None,
            counted=False,
        )

    async def admin_walk(self) -> None:
        await self.text("/admin", "walk", "command", "admin:panel")
        await self.fuzz("admin:panel")
        if not await self.tap(button_of(AdminAction, op=AdminOp.FIND), "admin:panel"):
            return
        await self.fuzz("admin:find")
        state, _data = await self.fsm()
        if state != "AdminStates:user":
            return
        target = self.rng.choice([u for u in self.run.users if u != self.id] or [self.id])
        await self.text(str(target), "walk", "user_id", "admin:find")
        await self.fuzz("admin:user")
        if not await self.tap(button_of(AdminAction, op=AdminOp.ADJUST), "admin:user"):
            return
        await self.fuzz("admin:adjust")
        state, _data = await self.fsm()
        if state != "AdminStates:adjust":
            return
        await self.text("+5 fuzz check", "walk", "adjustment", "admin:adjust")
        await self.fuzz("admin:confirm")
        # Cancelled, never confirmed: no money moves.
        await self.tap(button_of(AdminAction, op=AdminOp.DROP), "admin:confirm")
