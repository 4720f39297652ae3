"""Operations: the KIE accounts' credits, checked on a schedule (workflows/kie_credits.py).

Every configured key is checked. Below the threshold the check logs at ERROR (for log-based alerting) and
messages every admin in Telegram. A key out of rotation (KIE refused it) that KIE now accepts with enough
credits is put back, and the submit queue's rate raised again.
Messaging is best effort: an admin who blocked the bot or a Telegram hiccup is logged, never retried into a
pile of duplicate alerts; the next scheduled check alerts again while the balance stays low.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.pacing import set_submit_rate
from contracts import activities as contract
from contracts.activities import implements
from contracts.money import KieCreditsCheck
from db import KieKeys
from kie.accounts import KieAccounts
from kie.errors import KieError

log = logging.getLogger(__name__)


class OperationsActivities:
    def __init__(
        self,
        kie: KieAccounts,
        bot: Bot,
        *,
        threshold: int,
        admin_ids: list[int],
        keys: KieKeys | None = None,
        rate: Callable[[int], float] | None = None,
        task_queue: str = "",
    ) -> None:
        self.kie = kie
        self.bot = bot
        self.threshold = threshold
        self.admin_ids = list(admin_ids)
        self.keys = keys
        self.rate = rate  # submits a second for N active keys (activities.kie.SubmitLimits.rate)
        self.task_queue = task_queue

    @implements(contract.check_kie_credits)
    async def check_kie_credits(self) -> KieCreditsCheck:
        balances: dict[str, int] = {}
        refused: list[str] = []
        for key in self.kie.ids:
            try:
                balances[key] = await self.kie.client(key).get_credits()
            except KieError as err:
                # The key itself being refused is worth an operator's attention at once, not after retries.
                if not err.transient:
                    log.error(
                        "KIE credits check refused: %s", err, extra={"kie_code": err.code, "kie_key": key}
                    )
                    refused.append(key)
                    continue
                raise ApplicationError(f"KIE credits unavailable: {err}", type="KieCredits") from err
        if not balances:
            raise ApplicationError("KIE refused every key", type="KieCredits", non_retryable=True)
        credits = sum(balances.values())
        low_keys = [key for key, value in balances.items() if value < self.threshold]
        check = KieCreditsCheck(
            credits=credits,
            threshold=self.threshold,
            low=bool(low_keys),
            refused=refused,
            restored=await self._restore([k for k in balances if k not in low_keys]),
        )
        if not low_keys:
            log.info("KIE credits ok", extra={"kie_credits": credits, "threshold": self.threshold})
            return check
        low = {key: balances[key] for key in low_keys}
        log.error(
            "KIE credits low: %s left, alert threshold %s",
            min(low.values()),
            self.threshold,
            extra={"kie_credits": min(low.values()), "threshold": self.threshold, "alert": "kie_credits_low"},
        )
        left = (
            str(next(iter(low.values())))
            if len(self.kie.ids) == 1
            else ", ".join(f"{value} on key {key}" for key, value in low.items())
        )
        text = (
            f"⚠️ KIE credits are low: {left} left (alert threshold {self.threshold}).\n"
            "Top up the KIE account, or new generations will fail and be refunded."
        )
        for admin_id in self.admin_ids:
            try:
                await self.bot.send_message(admin_id, text)
            except Exception as err:  # best effort: blocked bot, unknown chat, network, anything
                check.admins_failed += 1
                log.warning(
                    "could not alert an admin about KIE credits: %s",
                    type(err).__name__,
                    extra={"admin_id": admin_id},
                )
            else:
                check.admins_alerted += 1
        return check

    async def _restore(self, healthy: list[str]) -> list[str]:
        """Put keys KIE accepts again (with credits) back into rotation; raise the queue's rate."""
        if self.keys is None:
            return []
        restored = [key for key in healthy if await self.keys.enable(key)]
        if restored and self.rate is not None:
            active = await self.keys.active(self.kie.ids)
            log.warning("KIE key(s) %s back in rotation", ", ".join(restored))
            await set_submit_rate(
                activity.client(), self.task_queue, self.rate(len(active)), f"{len(active)} KIE key(s)"
            )
        return restored
