"""The panel's buttons and the answers the admin types (a user id, an amount, a reason)."""

from __future__ import annotations

import re

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import views
from bot.admin import drift, screens, stats
from bot.admin.actions import MAX_ADJUSTMENT, MAX_REASON, PendingAction, outcome_text, run
from bot.admin.refs import parse_id, ref
from bot.keyboards import markup
from bot.services import Services
from bot.states import AdminStates
from contracts.buttons import AdminAction, AdminOp

PENDING = "admin_pending"  # FSM data: the action on the confirmation card
TARGET = "admin_target"  # FSM data: what the next message (an amount, a reason) is for
ADJUSTMENT = re.compile(r"^\s*([+-]?\d{1,9})(?:\s+(.*))?$", re.DOTALL)


def out_of_date(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is out of date. Open /menu to start again.")


# ---- screens ----------------------------------------------------------------------------------------------


async def panel(callback: CallbackQuery, state: FSMContext, services: Services, lang: str) -> None:
    await state.clear()
    await views.show(callback, await screens.panel(services, lang))


async def stuck(callback: CallbackQuery, services: Services) -> None:
    await views.show(callback, await screens.stuck(services))


async def catalog_drift(callback: CallbackQuery, services: Services) -> None:
    await views.show(callback, await drift.screen(services))


async def ask_user(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(AdminStates.user)
    await views.show(callback, (_("Send the user's Telegram id."), markup(screens.back_rows())))


async def got_user_id(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    user_id = parse_id(message.text or "")
    if user_id is None:
        await message.answer(_("A Telegram user id is a number. Send it again, or /cancel."))
        return
    await state.clear()
    await views.show(message, await screens.user(services, user_id, lang))


async def user(
    callback: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.user is None:
        return out_of_date(callback_answer)
    await state.set_state(None)
    await views.show(callback, await screens.user(services, callback_data.user, lang))


# ---- asking for the amount and the reason -----------------------------------------------------------------


async def ask_adjustment(
    callback: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    services: Services,
    callback_answer: CallbackAnswer,
) -> None:
    user_id = callback_data.user
    if user_id is None:
        return out_of_date(callback_answer)
    account = await services.ledger.balance(user_id)
    await state.set_state(AdminStates.adjust)
    await state.set_data({TARGET: PendingAction.adjust(user_id).model_dump()})
    text = "\n".join(
        [
            _("Adjust the credits of user {user} (available: {available}).").format(
                user=user_id, available=account.available
            ),
            _("Send the amount and the reason in one message, for example:"),
            _("+100 compensation for a failed video"),
            _("-50 duplicate top-up"),
            "",
            _("/cancel to stop."),
        ]
    )
    await views.show(callback, (text, markup(screens.back_rows(user_id))))


async def got_adjustment(message: Message, state: FSMContext, services: Services) -> None:
    target = await _target(state)
    if target is None or target.kind != "adjust":
        await state.clear()
        await message.answer(screens.usage())
        return
    await adjustment(message, state, services, target.user_id, message.text or "")


async def adjustment(
    message: Message, state: FSMContext, services: Services, user_id: int, text: str
) -> None:
    """``<±amount> <reason>`` for ``user_id``: the confirmation card, or what is wrong with the message."""
    match = ADJUSTMENT.match(text)
    if match is None:
        await message.answer(_("Send the amount first, then the reason, e.g. +100 compensation."))
        return
    amount, reason = int(match.group(1)), (match.group(2) or "").strip()
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        await message.answer(
            _("The amount must be between 1 and {max} credits, with + or −.").format(max=MAX_ADJUSTMENT)
        )
        return
    if not reason:
        await message.answer(
            _("A reason is required: send the amount and the reason, e.g. +100 compensation.")
        )
        return
    if await services.ledger.get_user(user_id) is None:
        await message.answer(_("No user {user} in the database.").format(user=user_id))
        return
    action = PendingAction.adjust(user_id).model_copy(update={"amount": amount})
    await propose(message, state, action, reason)


async def ask_refund_reason(
    callback: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    user_id = callback_data.user
    found = await _refund_target(services, callback_data, lang) if user_id is not None else None
    if user_id is None or found is None:
        return out_of_date(callback_answer)
    action, text = found
    await state.set_state(AdminStates.reason)
    await state.set_data({TARGET: action.model_dump()})
    prompt = "\n".join([text, _("Send the reason in one message."), "", _("/cancel to stop.")])
    await views.show(callback, (prompt, markup(screens.back_rows(user_id))))


async def _refund_target(
    services: Services, data: AdminAction, lang: str
) -> tuple[PendingAction, str] | None:
    """The generation or payment a refund button names (by ``ref``), with its description."""
    assert data.user is not None
    if data.op == AdminOp.REFUND_GENERATION:
        records = await services.generations.recent_for_user(data.user, limit=50)
        record = next((r for r in records if ref(r.id) == data.ref), None)
        if record is None:
            return None
        text = _("Refund generation {generation} ({model}) of user {user}: {amount} back.").format(
            generation=record.id,
            model=record.model_id,
            user=data.user,
            amount=views.credits(record.price, lang),
        )
        return PendingAction.refund_generation(data.user, record.id, record.price), text
    payments = await stats.recent_payments(services.pool, data.user, limit=50)
    payment = next((p for p in payments if ref(p.telegram_payment_charge_id) == data.ref), None)
    if payment is None:
        return None
    text = _("Refund the Stars payment {charge} of user {user}: {stars} ⭐, {credits}.").format(
        charge=payment.telegram_payment_charge_id,
        user=data.user,
        stars=payment.stars,
        credits=views.credits(payment.credits, lang),
    )
    action = PendingAction.refund_topup(
        data.user, payment.telegram_payment_charge_id, payment.stars, payment.credits
    )
    return action, text


async def got_reason(message: Message, state: FSMContext) -> None:
    target = await _target(state)
    if target is None or target.kind not in ("refund_gen", "refund_topup"):
        await state.clear()
        await message.answer(screens.usage())
        return
    await propose(message, state, target, message.text or "")


async def _target(state: FSMContext) -> PendingAction | None:
    raw = (await state.get_data()).get(TARGET)
    return PendingAction.model_validate(raw) if isinstance(raw, dict) else None


# ---- confirmation and the workflow ------------------------------------------------------------------------


async def propose(message: Message, state: FSMContext, action: PendingAction, reason: str) -> None:
    """The confirmation card: the exact amount and the reason; nothing starts before Confirm."""
    reason = " ".join(reason.split())
    if not reason:
        await message.answer(_("A reason is required. Send it in one message, or /cancel."))
        return
    if len(reason) > MAX_REASON:
        await message.answer(_("The reason is too long: up to {max} characters.").format(max=MAX_REASON))
        return
    pending = action.proposed(reason)
    await state.set_state(None)
    await state.set_data({PENDING: pending.model_dump()})
    await views.show(message, screens.confirmation(pending))


async def dropped(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await views.show(callback, (_("Cancelled: nothing was done."), markup(screens.back_rows())))


async def confirmed(
    callback: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    services: Services,
    callback_answer: CallbackAnswer,
) -> None:
    raw = (await state.get_data()).get(PENDING)
    pending = PendingAction.model_validate(raw) if isinstance(raw, dict) else None
    if pending is None or not pending.key or pending.key != callback_data.ref:
        return out_of_date(callback_answer)
    # Answered now: the workflow may take a few seconds.
    callback_answer.disable()
    await callback.answer(_("Working on it…"))
    workflow_id, result, failure = await run(services, callback.from_user.id, pending)
    text = outcome_text(pending, result, failure) + "\n\n" + services.temporal_link(workflow_id)
    await views.show(callback, (text, markup(screens.back_rows(pending.user_id))))
