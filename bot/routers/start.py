"""/start (with its deep-link payload), /menu, the Home button and /cancel: back to the main menu.

``/start ref_<code>`` is an invitation: a new user is linked to the code's owner (``Referrals.link``: once,
never to themselves, only before any money moved or generation was asked for). Only the payload of the
user's first contact counts; a failed link is quiet.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import views
from bot.services import Services
from contracts.buttons import Menu, MenuTarget

log = logging.getLogger(__name__)
REFERRAL_PREFIX = "ref_"


def router() -> Router:
    r = Router(name="start")
    r.message.register(start, CommandStart())
    r.message.register(home, Command("menu"))
    r.callback_query.register(home, Menu.filter(F.to == MenuTarget.HOME))
    r.message.register(cancel, Command("cancel"))
    return r


async def start(message: Message, command: CommandObject, state: FSMContext, services: Services) -> None:
    await state.clear()
    welcome = ""
    if command.args and message.from_user is not None:
        if await _invited(services, message.from_user.id, command.args):
            welcome = _("🎁 Welcome! You joined with a friend's invitation.") + "\n\n"
    name = message.from_user.first_name if message.from_user else None
    text, reply_markup = views.menu(name)
    await message.answer(welcome + text, reply_markup=reply_markup)


async def _invited(services: Services, user_id: int, payload: str) -> bool:
    """Keep the first contact's payload; True when it is an invitation that linked this user now."""
    first = await services.store.remember_start_payload(user_id, payload)
    # The same update delivered again (say, after a crash between the two writes) finishes the link.
    if not first and await services.store.start_payload(user_id) != payload:
        return False
    if not payload.startswith(REFERRAL_PREFIX):
        return False
    outcome = await services.referrals.link(user_id, payload.removeprefix(REFERRAL_PREFIX))
    if outcome != "linked":
        log.info("invitation not linked: %s", outcome, extra={"user_id": user_id})
    return outcome == "linked"


async def home(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await views.show(event, views.menu())


async def cancel(message: Message, state: FSMContext) -> None:
    had_form = await state.get_state() is not None
    await state.clear()
    text, reply_markup = views.menu()
    note = _("The form is closed.") if had_form else _("There is nothing to cancel.")
    await message.answer(f"{note}\n\n{text}", reply_markup=reply_markup)
