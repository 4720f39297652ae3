"""Balance (available, held, recent movements) and the Top up screen."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards, views
from bot.keyboards import button, home_row, markup
from bot.services import Services
from db import Movement


def router() -> Router:
    r = Router(name="balance")
    r.message.register(balance, Command("balance"))
    r.callback_query.register(balance, F.data == keyboards.BALANCE)
    r.message.register(top_up, Command("topup"))
    r.callback_query.register(top_up, F.data == keyboards.TOPUP)
    return r


def _movement(movement: Movement) -> str:
    names = {
        "topup": _("top-up"),
        "bonus": _("bonus"),
        "adjustment": _("adjustment"),
        "refund": _("refund"),
        "hold": _("held for a generation"),
        "charge": _("charged"),
        "release": _("released"),
        "debit": _("debited"),
    }
    sign = {"charge": "−", "debit": "−", "hold": "🔒 ", "release": "🔓 "}.get(movement.kind, "+")
    when = movement.created_at.strftime("%d.%m %H:%M")
    return f"{when} · {sign}{movement.amount} · {names.get(movement.kind, movement.kind)}"


async def balance(event: Message | CallbackQuery, services: Services, lang: str) -> None:
    assert event.from_user is not None
    user_id = event.from_user.id
    account = await services.ledger.balance(user_id)
    movements = await services.ledger.recent_movements(user_id, limit=5)
    lines = [
        _("Available: {available}").format(available=views.credits(account.available, lang)),
        _("Held for generations in progress: {held}").format(held=views.credits(account.held, lang)),
    ]
    if movements:
        lines += ["", _("Recent:")] + [_movement(m) for m in movements]
    rows = [
        [button(_("💳 Top up"), keyboards.TOPUP), button(_("🗂 History"), keyboards.HISTORY)],
        home_row(),
    ]
    await views.show(event, ("\n".join(lines), markup(rows)))


async def top_up(event: Message | CallbackQuery, services: Services, lang: str) -> None:
    assert event.from_user is not None
    account = await services.ledger.balance(event.from_user.id)
    text = "\n\n".join(
        [
            _("💳 Top up"),
            _("Credits are topped up with Telegram Stars ⭐, paid right here in Telegram."),
            _("Available now: {available}").format(available=views.credits(account.available, lang)),
            _("Questions about a payment: /paysupport"),
        ]
    )
    rows = [[button(_("💰 Balance"), keyboards.BALANCE)], home_row()]
    await views.show(event, (text, markup(rows)))
