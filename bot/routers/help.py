"""/help (credits, formats, refunds) and /paysupport (payments)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards, views
from bot.keyboards import button, home_row, markup
from bot.services import Services


def router() -> Router:
    r = Router(name="help")
    r.message.register(show_help, Command("help"))
    r.callback_query.register(show_help, F.data == keyboards.HELP)
    r.message.register(pay_support, Command("paysupport"))
    return r


async def show_help(event: Message | CallbackQuery, services: Services, lang: str) -> None:
    formats = "\n".join(
        f"• {fmt.title_for(lang)}" for fmt in services.catalog.formats if services.catalog.by_format(fmt.id)
    )
    text = "\n\n".join(
        [
            _("How it works"),
            _(
                "1. Tap Create, pick a format and a model.\n"
                "2. Answer the form: a text, a photo, a few options.\n"
                "3. Check the price on the confirmation card and tap Generate."
            ),
            _("Formats:") + "\n" + formats,
            _(
                "Credits: every model shows its price before you start. When a generation starts, its price "
                "is held on your balance; it is charged only when the result is ready."
            ),
            _(
                "Refunds: if a generation fails, times out or you cancel it, the held credits return to your "
                "balance automatically. You can cancel until the model starts working."
            ),
            _("Commands: /menu, /cancel (leave a form), /help, /paysupport (payments)."),
        ]
    )
    reply_markup = markup([[button(_("🎨 Create"), keyboards.CREATE)], home_row()])
    await views.show(event, (text, reply_markup))


async def pay_support(message: Message) -> None:
    text = _(
        "Payments: credits are topped up with Telegram Stars. If a payment went through but the credits did "
        "not arrive, or you have another question about a payment, write it here in one message with the "
        "date of the payment: we reply in this chat."
    )
    await message.answer(
        text, reply_markup=markup([[button(_("💰 Balance"), keyboards.BALANCE)], home_row()])
    )
