"""Telegram Stars on Telegram's side: the bot's transactions (reconciliation) and refunds.

Served by the Telegram worker; the ledger side of both is in `activities/payments.py`.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.telegram_errors import flood_control
from contracts import activities as contract
from contracts.activities import implements
from contracts.money import ReconcileInput, RefundTopUpStep, StarPayment
from db import Payments


class StarsActivities:
    def __init__(self, bot: Bot, payments: Payments) -> None:
        self.bot = bot
        self.payments = payments

    @implements(contract.find_uncredited_star_payments)
    async def find_uncredited_star_payments(self, data: ReconcileInput) -> list[StarPayment]:
        """Incoming Stars payments Telegram knows about and the ledger does not."""
        found: list[StarPayment] = []
        for page in range(data.max_pages):
            try:
                batch = await self.bot.get_star_transactions(offset=page * 100, limit=100)
            except TelegramRetryAfter as err:
                raise flood_control(err) from err
            for tx in batch.transactions:
                source = tx.source
                user = getattr(source, "user", None)
                if source is None or getattr(source, "type", None) != "user" or user is None:
                    continue  # outgoing (refunds, withdrawals) or not from a user
                found.append(
                    StarPayment(
                        charge_id=tx.id,
                        user_id=user.id,
                        amount=tx.amount,
                        payload=getattr(source, "invoice_payload", None) or "",
                    )
                )
            activity.heartbeat(page)
            if len(batch.transactions) < 100:
                break
        known = await self.payments.known([p.charge_id for p in found])
        return [p for p in found if p.charge_id not in known]

    @implements(contract.refund_stars)
    async def refund_stars(self, step: RefundTopUpStep) -> None:
        payment = await self.payments.get(step.request.charge_id)
        assert payment is not None
        try:
            await self.bot.refund_star_payment(payment.user_id, payment.telegram_payment_charge_id)
        except TelegramBadRequest as err:
            if "ALREADY_REFUNDED" in err.message.upper():
                return  # refunded before (maybe by a previous attempt whose answer was lost): done
            raise ApplicationError(err.message, type="RefundRefused", non_retryable=True) from err
        except TelegramRetryAfter as err:
            raise flood_control(err) from err
