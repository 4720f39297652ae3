"""Balance: available, held, recent movements; ways to top up and to invite friends."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import views
from bot.keyboards import home_row, markup, menu_button
from bot.services import Services
from contracts.buttons import Menu, MenuTarget
from db import Movement


def router() -> Router:
    r = Router(name="balance")
    r.message.register(balance, Command("balance"))
    r.callback_query.register(balance, Menu.filter(F.to == MenuTarget.BALANCE))
    return r


def movement_line(movement: Movement) -> str:
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
        lines += ["", _("Recent:")] + [movement_line(m) for m in movements]
    rows = [
        [menu_button(_("💳 Top up"), MenuTarget.TOP_UP), menu_button(_("🗂 History"), MenuTarget.HISTORY)],
        [menu_button(_("🎁 Invite friends"), MenuTarget.INVITE)],
        home_row(),
    ]
    await views.show(event, ("\n".join(lines), markup(rows)))
