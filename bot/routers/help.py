"""/help (credits, formats, refunds) and /paysupport (payments and refunds; a question goes to the admins)."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import views
from bot.keyboards import home_row, markup, menu_button
from bot.services import Services
from contracts.buttons import Menu, MenuTarget
from genflow.i18n import translate

log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name="help")
    r.message.register(show_help, Command("help"))
    r.callback_query.register(show_help, Menu.filter(F.to == MenuTarget.HELP))
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
    reply_markup = markup([[menu_button(_("🎨 Create"), MenuTarget.CREATE)], home_row()])
    await views.show(event, (text, reply_markup))


async def pay_support(message: Message, command: CommandObject, services: Services) -> None:
    """How payments and refunds work; ``/paysupport <message>`` goes to the administrators."""
    question = (command.args or "").strip()
    assert message.from_user is not None
    reply_markup = markup([[menu_button(_("💰 Balance"), MenuTarget.BALANCE)], home_row()])
    if question and services.settings.admin_ids:
        delivered = await _tell_admins(message, services, question[:3000])
        if delivered:
            text = _("Sent to the administrators. They will answer here, in this chat.")
        else:
            text = _("The administrators cannot be reached right now. Please try again later.")
        await message.answer(text, reply_markup=reply_markup)
        return
    text = "\n\n".join(
        [
            _("Payments and refunds"),
            _(
                "Credits are bought with Telegram Stars and arrive as soon as the payment goes through. "
                "If Telegram's confirmation gets lost on the way, they still arrive within {minutes} "
                "minutes: we check Telegram's list of payments."
            ).format(minutes=services.settings.reconcile_interval_minutes),
            _(
                "Refunds of Stars are made by our administrators, for the credits of a top-up that you "
                "have not spent. Credits held for a generation that failed or was cancelled come back by "
                "themselves."
            ),
            _(
                "To ask for a refund or about a payment, send /paysupport and your message in one line, for "
                "example:\n/paysupport Please refund my payment of today"
            ),
        ]
    )
    await message.answer(text, reply_markup=reply_markup)


async def _tell_admins(message: Message, services: Services, question: str) -> bool:
    """Forward the question to every admin, each in their language; True when at least one got it."""
    assert message.from_user is not None and message.bot is not None
    user_id = message.from_user.id
    delivered = False
    for admin_id in services.settings.admin_ids:
        admin = await services.ledger.get_user(admin_id)
        lang = admin.language if admin and admin.language else "en"
        text = translate(
            "💬 Payment support, user {user}:\n{question}\n\nAnswer with /admin reply {user} <text>",
            lang,
            user=user_id,
            question=question,
        )
        try:
            await message.bot.send_message(admin_id, text)
            delivered = True
        except TelegramAPIError:
            log.warning("a payment question did not reach an admin", extra={"admin_id": admin_id})
    return delivered
