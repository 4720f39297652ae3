"""Hostile button presses: stale buttons of older screens, forged callback data (``forged_buttons``) on the
newest message or on an inline message, forged operations on the form in progress, and forged admin buttons
at the admin panel's steps."""

from __future__ import annotations

from typing import Any

from testkit.bot_fuzz.forged_buttons import (
    FORGED_ADMIN,
    REFUSED_CALLBACKS,
    REFUSED_FORM_OPS,
    forged_callbacks,
    forged_form_ops,
)
from testkit.bot_fuzz.user import UserBase
from testkit.keyboards import buttons


class HostileCallbacks(UserBase):
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
        other_keys = [key for user, key in self.run.request_keys.items() if user != self.id]
        cases = forged_callbacks(
            rng, user=self.id, other_buttons=self.run.other_buttons, other_keys=other_keys
        )
        if self.id == self.run.admin:  # admin buttons are the admin's own; fuzz_admin forges those
            del cases["admin_button"]
        case = rng.choice(sorted(cases))
        refusal = case in REFUSED_CALLBACKS or case == "admin_button"  # from a non-admin: out of date
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
                refusal=refusal,
            )
            return
        await self.press(message_id, cases[case], "forged_callback", case, step, refusal=refusal)

    async def fuzz_form_ops(self, step: str, *, form: Any = None, spec: Any = None, **_: Any) -> None:
        if form is None or spec is None:
            return await self.fuzz_forged_callback(step)
        cases = forged_form_ops(self.rng, fid=form.fid, inputs=len(spec.user_inputs), key=form.key)
        case = self.rng.choice(sorted(cases))
        message_id = self.run.watch.last_message(self.id)
        if message_id is None:
            return
        refusal = case in REFUSED_FORM_OPS
        await self.press(message_id, cases[case], "forged_callback", "form_" + case, step, refusal=refusal)

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
        data = rng.choice(FORGED_ADMIN)
        message_id = self.run.watch.last_message(self.id)
        if message_id is not None:
            await self.press(message_id, data, "forged_callback", "admin_" + data.split(":")[1], step)
