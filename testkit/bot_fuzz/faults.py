"""A fuzz user: walks the bot's screens (``walks``) and at every step sends random faults, drawn by weight
from the hostile messages, button presses and payments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from testkit.bot_fuzz.hostile_callbacks import HostileCallbacks
from testkit.bot_fuzz.hostile_messages import HostileMessages
from testkit.bot_fuzz.hostile_payments import HostilePayments
from testkit.bot_fuzz.walks import Walks


class FuzzUser(Walks, HostileCallbacks, HostileMessages, HostilePayments):
    async def fuzz(
        self,
        step: str,
        *,
        count: int | None = None,
        form: Any = None,
        spec: Any = None,
        invoice: int | None = None,
    ) -> None:
        """One to three faults (or ``count``) at ``step``, drawn by weight; the form's, the admin's and the
        invoice's own faults where they apply."""
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
