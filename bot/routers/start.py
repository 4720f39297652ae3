"""/start (with its deep-link payload), /menu, the Home button and /cancel: back to the main menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards, views
from bot.services import Services


def router() -> Router:
    r = Router(name="start")
    r.message.register(start, CommandStart())
    r.message.register(home, Command("menu"))
    r.callback_query.register(home, F.data == keyboards.HOME)
    r.message.register(cancel, Command("cancel"))
    return r


async def start(message: Message, command: CommandObject, state: FSMContext, services: Services) -> None:
    await state.clear()
    if command.args and message.from_user is not None:
        # Kept raw for later (referrals will use ref_<code>); only the first contact's payload counts.
        await services.store.remember_start_payload(message.from_user.id, command.args)
    name = message.from_user.first_name if message.from_user else None
    await views.show(message, views.menu(name))


async def home(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await views.show(event, views.menu())


async def cancel(message: Message, state: FSMContext) -> None:
    had_form = await state.get_state() is not None
    await state.clear()
    text, reply_markup = views.menu()
    note = _("The form is closed.") if had_form else _("There is nothing to cancel.")
    await message.answer(f"{note}\n\n{text}", reply_markup=reply_markup)
