"""What next after a result: the buttons under a delivered result (and in history).

A follow-up opens the chosen model's form with the result already filled in (``forms.follow_up_values``)
and starts a generation linked to it (``parent_id``: history shows the chain); a re-roll starts the same
inputs with a new seed; "more like this" starts several variants at once, within the per-user limit and
priced as their sum; a star keeps the result among favourites. Every button names the result by its request
key, joined with the *pressing* user's id: another user's button, or a forged one, finds nothing.
"""

from __future__ import annotations

import datetime as dt

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import forms, views
from bot.flow import FormStep
from bot.keyboards import button, home_row, markup
from bot.services import Services
from catalog import ModelSpec, UnknownModel
from contracts.buttons import FollowOp, FollowUp
from contracts.ids import generation_id
from db import GenerationRecord

MORE = 3  # variants "more like this" starts at most
SHOWN = 10  # models of a follow-up group on its screen, newest first


def router() -> Router:
    r = Router(name="followups")
    r.callback_query.register(group, FollowUp.filter(F.op == FollowOp.GROUP))
    r.callback_query.register(use, FollowUp.filter(F.op == FollowOp.USE))
    r.callback_query.register(reroll, FollowUp.filter(F.op == FollowOp.REROLL))
    r.callback_query.register(more, FollowUp.filter(F.op == FollowOp.MORE))
    r.callback_query.register(favourite, FollowUp.filter(F.op == FollowOp.FAVOURITE))
    return r


def stale(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is out of date. Open /menu to start again.")


async def _result(callback: CallbackQuery, data: FollowUp, services: Services) -> GenerationRecord | None:
    """The pressing user's succeeded generation the button names, else None."""
    record = await services.generations.get(generation_id(callback.from_user.id, data.key))
    ok = record is not None and record.user_id == callback.from_user.id and record.status == "succeeded"
    return record if ok else None


def _enabled(services: Services, model_id: str) -> ModelSpec | None:
    spec = services.catalog.models.get(model_id)
    return spec if spec is not None and spec.enabled else None


def _target(callback: CallbackQuery) -> Message | CallbackQuery:
    return callback.message if isinstance(callback.message, Message) else callback


async def group(
    callback: CallbackQuery,
    callback_data: FollowUp,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    """The models of a follow-up group that take this result, newest first."""
    record = await _result(callback, callback_data, services)
    found = (
        next(
            (g for g in services.catalog.followups_for(record.model_id) if g[0].id == callback_data.ref), None
        )
        if record is not None and _enabled(services, record.model_id)
        else None
    )
    if record is None or found is None:
        return stale(callback_answer)
    spec, models = found
    models = sorted(models, key=lambda m: m.released or "", reverse=True)[:SHOWN]
    rows = [
        [button(m.title_for(lang), FollowUp(key=callback_data.key, op=FollowOp.USE, ref=m.code))]
        for m in models
    ]
    text = _("{action}: choose a model").format(action=spec.title_for(lang))
    await views.show(callback, (text, markup([*rows, home_row()])))


async def use(
    callback: CallbackQuery,
    callback_data: FollowUp,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    """The chosen model's form, with the result filled in; its generation follows the result up."""
    record = await _result(callback, callback_data, services)
    try:
        spec = services.catalog.by_code(callback_data.ref)
    except UnknownModel:
        return stale(callback_answer)
    values = forms.follow_up_values(spec, record, dt.datetime.now(dt.UTC)) if record else None
    if record is None or not spec.enabled or values is None:
        return stale(callback_answer)
    await state.clear()
    form = forms.new_form(spec.id, values, parent=record.id)
    await FormStep(_target(callback), state, services, lang, spec, form).advance()


async def reroll(
    callback: CallbackQuery,
    callback_data: FollowUp,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    """The same inputs again, with a new seed where the model takes one: straight to the card."""
    await _again(callback, callback_data, state, services, lang, callback_answer, copies=1)


async def more(
    callback: CallbackQuery,
    callback_data: FollowUp,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    """Several variants at once (each its own generation and seed), within the per-user limit."""
    room = services.settings.bot_max_in_progress - await services.generations.in_progress_count(
        callback.from_user.id
    )
    if room < 1:
        callback_answer.text = _("Please wait for a generation to finish.")
        return
    await _again(callback, callback_data, state, services, lang, callback_answer, copies=min(MORE, room))


async def _again(
    callback: CallbackQuery,
    callback_data: FollowUp,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
    *,
    copies: int,
) -> None:
    record = await _result(callback, callback_data, services)
    spec = _enabled(services, record.model_id) if record is not None else None
    if record is None or spec is None:
        callback_answer.text = _("This model is not available right now. Please choose another one.")
        return
    values = forms.new_seed(spec, forms.prefill(spec, record.inputs))
    form = forms.new_form(spec.id, values, parent=record.parent_id, copies=copies)
    await FormStep(_target(callback), state, services, lang, spec, form).confirm(callback.from_user.id)


async def favourite(
    callback: CallbackQuery, callback_data: FollowUp, services: Services, callback_answer: CallbackAnswer
) -> None:
    record = await _result(callback, callback_data, services)
    if record is None:
        return stale(callback_answer)
    await services.generations.set_favourite(record.id, callback.from_user.id, not record.favourite)
    callback_answer.text = _("Removed from favourites.") if record.favourite else _("Saved to favourites ⭐")
