"""Language: the choice is stored on the user, so the workflow's messages use it as well."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import keyboards, views
from bot.services import Services
from contracts.buttons import Menu, MenuTarget, SetLanguage
from genflow.i18n import LANGUAGES


def router() -> Router:
    r = Router(name="language")
    r.message.register(choose, Command("language"))
    r.callback_query.register(choose, Menu.filter(F.to == MenuTarget.LANGUAGE))
    r.callback_query.register(switch, SetLanguage.filter(F.code.in_(LANGUAGES)))
    return r


async def choose(event: Message | CallbackQuery) -> None:
    await views.show(event, (_("Choose your language:"), keyboards.languages()))


async def switch(
    callback: CallbackQuery,
    callback_data: SetLanguage,
    services: Services,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    lang = callback_data.code
    await services.ledger.ensure_user(callback.from_user.id, language=lang)
    with i18n.use_locale(lang):
        text, reply_markup = views.menu()
        callback_answer.text = _("Language: English")
        await views.show(callback, (_("Language: English") + "\n\n" + text, reply_markup))
