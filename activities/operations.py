"""Operations: the KIE account's credits, checked on a schedule (workflows/kie_credits.py).

Below the threshold the check logs at ERROR (for log-based alerting) and messages every admin in Telegram.
Messaging is best effort: an admin who blocked the bot or a Telegram hiccup is logged, never retried into a
pile of duplicate alerts; the next scheduled check alerts again while the balance stays low.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from temporalio import activity
from temporalio.exceptions import ApplicationError

from kie.client import KieClient
from kie.errors import KieError
from workflows.kie_credits import KieCreditsCheck

log = logging.getLogger(__name__)


class OperationsActivities:
    def __init__(self, kie: KieClient, bot: Bot, *, threshold: int, admin_ids: list[int]) -> None:
        self.kie = kie
        self.bot = bot
        self.threshold = threshold
        self.admin_ids = list(admin_ids)

    @activity.defn
    async def check_kie_credits(self) -> KieCreditsCheck:
        try:
            credits = await self.kie.get_credits()
        except KieError as err:
            # The key itself being refused is worth an operator's attention at once, not after retries.
            if not err.transient:
                log.error("KIE credits check refused: %s", err, extra={"kie_code": err.code})
            raise ApplicationError(
                f"KIE credits unavailable: {err}", type="KieCredits", non_retryable=not err.transient
            ) from err
        low = credits < self.threshold
        check = KieCreditsCheck(credits=credits, threshold=self.threshold, low=low)
        if not low:
            log.info("KIE credits ok", extra={"kie_credits": credits, "threshold": self.threshold})
            return check
        log.error(
            "KIE credits low: %s left, alert threshold %s",
            credits,
            self.threshold,
            extra={"kie_credits": credits, "threshold": self.threshold, "alert": "kie_credits_low"},
        )
        text = (
            f"⚠️ KIE credits are low: {credits} left (alert threshold {self.threshold}).\n"
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
