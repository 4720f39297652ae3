"""Moving through the form: ask the next input, show the overview, show the confirmation card.

Shared by the create router (the form itself) and the generation router ("Try again", a refused Generate).
Each step saves the form in the FSM before showing it, so a restart or another replica continues from there.
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from bot import forms, views
from bot.services import Services
from bot.states import FormStates
from catalog import FieldError, ModelSpec

Target = Message | CallbackQuery


async def save(state: FSMContext, form: forms.Form, step: State) -> None:
    await state.set_state(step)
    await state.update_data({forms.FORM_KEY: form.to_data()})


async def load(state: FSMContext, services: Services) -> tuple[forms.Form, ModelSpec] | None:
    """The form in progress and its model; None when there is none (or its model is gone)."""
    form = forms.Form.from_data(await state.get_data())
    if form is None:
        return None
    spec = services.catalog.models.get(form.model_id)
    if spec is None or not spec.enabled:
        return None
    return form, spec


async def advance(
    target: Target, state: FSMContext, services: Services, spec: ModelSpec, form: forms.Form, lang: str
) -> None:
    """Ask the next missing input, or show the overview when nothing required is missing."""
    name = forms.next_question(services.catalog, spec, form.values)
    if name is not None:
        await ask(target, state, services, spec, form, name, lang)
    else:
        await overview(target, state, services, spec, form, lang)


async def ask(
    target: Target,
    state: FSMContext,
    services: Services,
    spec: ModelSpec,
    form: forms.Form,
    name: str,
    lang: str,
    *,
    page: int = 0,
    prefix: str = "",
) -> None:
    form.asking, form.page, form.key = name, page, None
    await save(state, form, FormStates.asking)
    text, reply_markup = views.question(services.catalog, spec, spec.user_inputs[name], form, lang)
    await views.show(target, (prefix + text, reply_markup))


async def overview(
    target: Target,
    state: FSMContext,
    services: Services,
    spec: ModelSpec,
    form: forms.Form,
    lang: str,
    *,
    prefix: str = "",
) -> None:
    form.asking, form.page, form.key = None, 0, None
    await save(state, form, FormStates.overview)
    text, reply_markup = views.overview(services.catalog, spec, form, lang)
    await views.show(target, (prefix + text, reply_markup))


async def confirm(
    target: Target,
    state: FSMContext,
    services: Services,
    spec: ModelSpec,
    form: forms.Form,
    lang: str,
    user_id: int,
) -> list[FieldError]:
    """The confirmation card with a fresh request key; or the overview with the problems, returned."""
    errors = forms.check(services.catalog, spec.id, form.values)
    if errors:
        await overview(
            target, state, services, spec, form, lang, prefix=views.field_errors(errors, lang) + "\n\n"
        )
        return errors
    inputs = services.catalog.validate(spec.id, form.values)
    price = services.catalog.price(spec.id, inputs)
    balance = await services.ledger.balance(user_id)
    wait = await services.queue_wait(user_id)
    form.asking, form.key = None, forms.new_request_key()
    await save(state, form, FormStates.confirm)
    card = views.confirmation(spec, form, inputs, price.credits, price.free, balance, lang, queue_wait=wait)
    await views.show(target, card)
    return []
