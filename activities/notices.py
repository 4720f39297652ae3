"""Messages to users and admins about money: top-ups credited, refunds, payments to look at.

Served by the Telegram worker (`telegram_worker.py`, queue ``<queue>-telegram``). A user who blocked the bot
is not an error: the money moved already, the message is dropped and logged.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from activities.telegram_errors import flood_control
from contracts import activities as contract
from contracts.activities import implements
from contracts.buttons import Menu, MenuTarget
from contracts.money import AdminNotice, RefundNotice, TopUpNotice
from db import Ledger
from genflow.i18n import translate as _

log = logging.getLogger(__name__)


class NoticeActivities:
    def __init__(self, bot: Bot, ledger: Ledger, *, admin_ids: list[int]) -> None:
        self.bot = bot
        self.ledger = ledger
        self.admin_ids = list(admin_ids)

    @implements(contract.notify_topup)
    async def notify_topup(self, notice: TopUpNotice) -> None:
        # The user's stored language wins: a top-up found by reconciliation knows no language of its own.
        user = await self.ledger.get_user(notice.user_id) if notice.user_id is not None else None
        language = (user.language if user and user.language else None) or notice.language
        notice = notice.model_copy(update={"language": language})
        text = _(
            "✅ Payment received: +{credits} credits. Your balance: {balance}.",
            notice.language,
            credits=notice.credits,
            balance=notice.balance_after,
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Create", notice.language), callback_data=Menu(to=MenuTarget.CREATE).pack()
                    ),
                    InlineKeyboardButton(
                        text=_("Home", notice.language), callback_data=Menu(to=MenuTarget.HOME).pack()
                    ),
                ]
            ]
        )
        await self._send(notice.chat_id, text, markup)

    @implements(contract.notify_refund)
    async def notify_refund(self, notice: RefundNotice) -> None:
        user = await self.ledger.get_user(notice.user_id)
        language = (user.language if user else None) or "en"
        text = _(
            "💸 {credits} credits for one of your generations were returned to your balance.",
            language,
            credits=notice.credits,
        )
        await self._send(notice.user_id, text, None)

    @implements(contract.notify_admins)
    async def notify_admins(self, notice: AdminNotice) -> None:
        log.error("admin notice: %s", notice.text)
        for admin_id in self.admin_ids:
            await self._send(admin_id, "⚠️ " + notice.text, None)

    async def _send(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self.bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramForbiddenError:
            log.info("user unreachable; message dropped")
        except TelegramRetryAfter as err:
            raise flood_control(err) from err
