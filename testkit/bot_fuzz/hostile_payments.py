"""Forged payments: pre-checkout queries and ``successful_payment`` messages whose order is never a genuine
one of this user at its price (garbage, another user's, tampered, another secret, wrong amount or currency,
an unknown package, expired)."""

from __future__ import annotations

import time
from typing import Any

from billing import make_order_reference
from testkit.bot_fuzz.user import UserBase


class HostilePayments(UserBase):
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
