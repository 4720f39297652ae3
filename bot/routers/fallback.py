"""Anything no other handler took: a hint for the current step, or the menu. Never a dead end."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import keyboards
from bot.flow import FormStep
from bot.services import Services


def router() -> Router:
    r = Router(name="fallback")
    r.message.register(unknown_message)
    r.callback_query.register(unknown_button)
    return r


async def unknown_message(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    if await state.get_state() is not None:
        step = await FormStep.load(message, state, services, lang)
        if step is not None:
            await step.hint()
            return
    await state.clear()
    await message.answer(
        _("I did not understand that. Choose what to do:"), reply_markup=keyboards.main_menu()
    )


async def unknown_button(callback: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is out of date. Open /menu to start again.")
