"""Generate (the confirmation card's button), Cancel and Try again (the workflow's status message).

The request key on the card is the generation's identity: the workflow id is derived from it, and the first
tap claims it in ``bot_requests`` before the status message is sent. A double tap, or the same update
delivered again, finds the claim and starts nothing new.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from bot import forms, keyboards, views
from bot.flow import FormStep
from bot.services import Services
from bot.storage import StartedRequest
from catalog import UnknownModel
from contracts import generation
from contracts.buttons import Generate, GenerationAction, GenerationOp
from contracts.ids import generation_id
from contracts.models import GenerationRequest
from genflow.wait_text import queue_text
from workflows.starter import start_generation

CANCEL_TIMEOUT = 10.0  # seconds to wait for the workflow's answer before telling the user to retry
CLAIM_GRACE = 30.0  # a claim this old without a status message is a start that died half-way


def router() -> Router:
    r = Router(name="generation")
    r.callback_query.register(generate, Generate.filter())
    r.callback_query.register(cancel, GenerationAction.filter(F.op == GenerationOp.CANCEL))
    r.callback_query.register(again, GenerationAction.filter(F.op == GenerationOp.AGAIN))
    return r


async def generate(
    callback: CallbackQuery,
    callback_data: Generate,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    key = callback_data.key
    user_id = callback.from_user.id
    message = callback.message if isinstance(callback.message, Message) else None
    chat_id = message.chat.id if message else user_id

    started = await services.store.started_request(user_id, key)
    if started is not None:
        callback_answer.text = await _attach(services, started)
        return
    step = await FormStep.load(message or callback, state, services, lang)
    if step is None or step.form.key != key:
        callback_answer.text = _("This confirmation is out of date. Open /menu to start again.")
        return
    form, spec = step.form, step.spec
    errors = forms.check(services.catalog, spec.id, form.values)
    if errors:  # e.g. the catalog changed since the card was shown
        await step.confirm(user_id)
        return
    price = services.catalog.price(spec.id, services.catalog.validate(spec.id, form.values))
    refusal = await _refusal(services, user_id, price.credits * form.copies, price.free, form.copies, lang)
    if refusal is not None:
        callback_answer.text, text, markup = refusal
        await _say(callback, chat_id, text, markup)
        return
    requests = [
        GenerationRequest(
            user_id=user_id,
            chat_id=chat_id,
            request_key=copy_key,
            model_id=spec.id,
            inputs=inputs,
            language="ru" if lang == "ru" else "en",
            parent_id=form.parent,
        )
        for copy_key, inputs in forms.copies(spec, form, key)
    ]
    for request in requests:
        gid = generation_id(user_id, request.request_key)
        claimed = await services.store.claim_request(
            user_id, request.request_key, gid, request.model_dump(mode="json")
        )
        if not claimed:  # another replica was faster with this confirmation
            started = await services.store.started_request(user_id, request.request_key)
            callback_answer.text = await _attach(services, started) if started else _("Already started.")
            return
        await _start(callback, services, request, spec.title_for(lang), lang)
    await state.clear()
    callback_answer.text = _("Started!")
    if message is not None:  # the card's Generate button has done its job
        with suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=keyboards.home())


async def _refusal(
    services: Services, user_id: int, total: int, free: bool, copies: int, lang: str
) -> tuple[str, str, InlineKeyboardMarkup] | None:
    """Why a start is bound to be refused (the workflow decides; this spares the user the attempt)."""
    in_progress = await services.generations.in_progress_count(user_id)
    if in_progress + copies > services.settings.bot_max_in_progress:
        text = _("Too many generations in progress ({count}). Start a new one when one of them is done.")
        return _("Please wait for a generation to finish."), text.format(count=in_progress), keyboards.home()
    if not free:
        balance = await services.ledger.balance(user_id)
        if balance.available < total:
            text = _("This generation costs {price}; available: {available}. Top up to continue.").format(
                price=views.credits(total, lang), available=views.credits(balance.available, lang)
            )
            return _("Not enough credits."), text, keyboards.topup_and_home()
    return None


async def _start(
    callback: CallbackQuery, services: Services, request: GenerationRequest, title: str, lang: str
) -> None:
    """The status message, then the workflow. Behind a surge the message says so from the start: the
    workflow's own queue updates are spread out to stay within Telegram's limits."""
    assert callback.bot is not None
    place = await services.queue_place(request.user_id)
    text = queue_text(place, lang, model=title) if place else _("⏳ Starting {model}…").format(model=title)
    status = await callback.bot.send_message(
        request.chat_id, text, reply_markup=keyboards.cancel_generation(request.request_key)
    )
    await services.store.set_status_message(request.user_id, request.request_key, status.message_id)
    request.status_message_id = status.message_id
    await start_generation(services.temporal, request, task_queue=services.task_queue)


async def _say(callback: CallbackQuery, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup) -> None:
    assert callback.bot is not None
    await callback.bot.send_message(chat_id, text, reply_markup=reply_markup)


async def _attach(services: Services, started: StartedRequest) -> str:
    """The answer to a repeated Generate; finishes a start that died between the claim and the workflow."""
    if started.status_message_id is None and started.age_seconds < CLAIM_GRACE:
        return _("Already starting…")
    request = GenerationRequest.model_validate(
        {**started.request, "status_message_id": started.status_message_id}
    )
    await start_generation(
        services.temporal, request, task_queue=services.task_queue
    )  # attaches if it exists
    return _("This generation has already started.")


async def cancel(
    callback: CallbackQuery,
    callback_data: GenerationAction,
    services: Services,
    callback_answer: CallbackAnswer,
) -> None:
    # The key names a generation of the user who pressed: another user's key finds nothing of theirs.
    gid = generation_id(callback.from_user.id, callback_data.key)
    handle = services.temporal.get_workflow_handle(gid)
    try:
        await asyncio.wait_for(generation.cancel(handle), CANCEL_TIMEOUT)
    except WorkflowUpdateFailedError:
        callback_answer.text = _("Too late to cancel: the model is already working on it.")
        callback_answer.show_alert = True
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        record = await services.generations.get(gid)
        if record is not None and record.finished:
            callback_answer.text = _("This generation has already finished.")
        elif await services.store.started_request(callback.from_user.id, callback_data.key) is not None:
            callback_answer.text = _("It is still starting. Please try again in a moment.")
        else:  # not a generation of this user's: another user's button, or a forged one
            callback_answer.text = _("This button is out of date. Open /menu to start again.")
    except TimeoutError:
        callback_answer.text = _("Could not cancel right now. Please try again.")
    else:
        callback_answer.text = _("Cancelled.")


async def again(
    callback: CallbackQuery,
    callback_data: GenerationAction,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    record = await services.generations.get(generation_id(callback.from_user.id, callback_data.key))
    if record is None or record.user_id != callback.from_user.id:
        callback_answer.text = _("This generation is not available.")
        return
    try:
        spec = services.catalog.get(record.model_id)
    except UnknownModel:
        spec = None
    if spec is None or not spec.enabled:
        callback_answer.text = _("This model is not available right now. Please choose another one.")
        return
    form = forms.new_form(spec.id, forms.prefill(spec, record.inputs))
    target = callback.message if isinstance(callback.message, Message) else callback
    await FormStep(target, state, services, lang, spec, form).confirm(callback.from_user.id)
