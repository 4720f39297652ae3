"""``/admin`` and its subcommands; ``/admin reply`` answers a /paysupport question."""

from __future__ import annotations

from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import views
from bot.admin import drift, screens
from bot.admin.actions import PendingAction
from bot.admin.panel import adjustment, propose
from bot.admin.refs import parse_id
from bot.keyboards import markup
from bot.services import Services
from genflow.i18n import translate


async def admin_command(
    message: Message, command: CommandObject, state: FSMContext, services: Services, lang: str
) -> None:
    assert message.from_user is not None
    words = (command.args or "").split(maxsplit=1)
    sub, rest = (words[0].lower(), words[1] if len(words) > 1 else "") if words else ("", "")
    if sub == "":
        await state.clear()
        await views.show(message, await screens.panel(services, lang))
    elif sub == "user" and (target_id := parse_id(rest)) is not None:
        await views.show(message, await screens.user(services, target_id, lang))
    elif sub == "stuck":
        await views.show(message, await screens.stuck(services))
    elif sub == "drift":
        await views.show(message, await drift.screen(services))
    elif sub == "adjust":
        if (args := _id_and_text(rest)) is None:
            await message.answer(screens.usage())
            return
        await adjustment(message, state, services, args[0], args[1])
    elif sub == "refund_gen":
        target, reason = _split(rest)
        record = await services.generations.get(target) if target else None
        if record is None:
            await message.answer(_("No such generation: {id}").format(id=target or "—"))
            return
        action = PendingAction.refund_generation(record.user_id, record.id, record.price)
        await propose(message, state, action, reason)
    elif sub == "refund_topup":
        target, reason = _split(rest)
        payment = await services.payments.get(target) if target else None
        if payment is None:
            await message.answer(_("No such payment: {id}").format(id=target or "—"))
            return
        action = PendingAction.refund_topup(
            payment.user_id, payment.telegram_payment_charge_id, payment.stars, payment.credits
        )
        await propose(message, state, action, reason)
    elif sub == "reply":
        if (args := _id_and_text(rest)) is None:
            await message.answer(screens.usage())
            return
        await reply_to_user(message, services, args[0], args[1].strip())
    else:
        await message.answer(screens.usage(), reply_markup=markup(screens.back_rows()))


def _id_and_text(rest: str) -> tuple[int, str] | None:
    """``<user id> <text>`` of an admin command, or None when either is missing or the id is not one."""
    parts = rest.split(maxsplit=1)
    user_id = parse_id(parts[0]) if parts else None
    return (user_id, parts[1]) if len(parts) == 2 and user_id is not None else None


def _split(rest: str) -> tuple[str, str]:
    parts = rest.split(maxsplit=1)
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")


async def reply_to_user(message: Message, services: Services, user_id: int, text: str) -> None:
    assert message.bot is not None
    user = await services.ledger.get_user(user_id)
    lang = user.language if user and user.language else "en"
    try:
        await message.bot.send_message(user_id, translate("💬 Support: {answer}", lang, answer=text))
    except TelegramAPIError as error:
        await message.answer(_("Not delivered: {error}").format(error=error.message))
        return
    await message.answer(
        _("Sent to user {user}.").format(user=user_id), reply_markup=markup(screens.back_rows(user_id))
    )
