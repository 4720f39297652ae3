"""Create: formats → models with their starting price → the model's card → the form, step by step.

Form buttons are ``contracts.buttons.FormAction`` (the form's id, an operation, an input's index and a
value); the form id tells a button of the current form from one left on an older message.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import forms, views
from bot.flow import FormStep
from bot.services import Services
from bot.states import FormStates
from catalog import ModelSpec, UnknownFormat, UnknownModel
from contracts.buttons import FormAction, FormatModels, FormOp, Menu, MenuTarget, ModelCard, StartForm

MEDIA = F.photo | F.video | F.video_note | F.animation | F.audio | F.voice | F.document


def router() -> Router:
    r = Router(name="create")
    r.message.register(formats, Command("create"))
    r.callback_query.register(formats, Menu.filter(F.to == MenuTarget.CREATE))
    r.callback_query.register(models, FormatModels.filter())
    r.callback_query.register(model_card, ModelCard.filter())
    r.callback_query.register(start_form, StartForm.filter())
    r.callback_query.register(form_button, FormAction.filter())
    r.message.register(typed_answer, FormStates.asking, F.text, ~F.text.startswith("/"))
    r.message.register(sent_media, FormStates.asking, MEDIA)
    return r


def stale(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is out of date. Open /menu to start again.")


def _model(services: Services, code: str) -> ModelSpec | None:
    try:
        spec = services.catalog.by_code(code)
    except UnknownModel:
        return None
    return spec if spec.enabled else None


async def formats(event: Message | CallbackQuery, state: FSMContext, services: Services, lang: str) -> None:
    await state.clear()
    await views.show(event, views.formats(services.catalog, lang))


async def models(
    callback: CallbackQuery,
    callback_data: FormatModels,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    uses = await services.model_uses()
    try:
        screen = views.models(services.catalog, callback_data.format, callback_data.page, lang, uses)
    except UnknownFormat:
        return stale(callback_answer)
    await views.show(callback, screen)


async def model_card(
    callback: CallbackQuery,
    callback_data: ModelCard,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    spec = _model(services, callback_data.code)
    if spec is None:
        return stale(callback_answer)
    await views.show(callback, views.model_card(services.catalog, spec, lang))


async def start_form(
    callback: CallbackQuery,
    callback_data: StartForm,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    spec = _model(services, callback_data.code)
    if spec is None:
        return stale(callback_answer)
    await state.clear()
    await FormStep(callback, state, services, lang, spec, forms.new_form(spec.id)).advance()


async def form_button(
    callback: CallbackQuery,
    callback_data: FormAction,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    step = await FormStep.load(callback, state, services, lang)
    if step is None or callback_data.form != step.form.fid:
        callback_answer.text = _("This form is closed. Open /menu to start a new one.")
        return
    op, index, value = callback_data.op, callback_data.index, callback_data.value
    field = forms.field_at(step.spec, index) if index is not None else None

    if op == FormOp.OVERVIEW:
        await step.overview()
    elif op == FormOp.GENERATE:
        if await step.confirm(callback.from_user.id):
            callback_answer.text = _("Some inputs need attention.")
    elif op == FormOp.DONE and step.asked:
        await step.advance()
    elif op == FormOp.ASK and field is not None:
        await step.ask(field.name)
    elif op == FormOp.DEFAULT and field is not None and not forms.needs_answer(field):
        step.form.values.pop(field.name, None)
        await step.advance()
    elif field is None or field.name != step.asked or value is None:
        stale(callback_answer)  # a choice of a question that is not the current one
    elif op == FormOp.PAGE:
        await step.ask(field.name, page=value)
    elif op == FormOp.CHOOSE and value < len(field.enum or []):
        await _accept(step, field.name, (field.enum or [])[value])
    elif op == FormOp.YES_NO and value in (0, 1):
        await _accept(step, field.name, bool(value))
    else:
        stale(callback_answer)


async def _accept(step: FormStep, name: str, value: object) -> bool:
    """Take ``value`` for input ``name`` if the catalog accepts it; otherwise say why and ask again."""
    values = {**step.form.values, name: value}
    errors = forms.errors_for(step.services.catalog, step.spec, values, name)
    if errors:
        # An answer typed as a message gets its errors in a new message; a button's replace the question.
        await step.ask(name, page=step.form.page, prefix=views.field_errors(errors, step.lang) + "\n\n")
        return False
    step.form.values = values
    await step.advance()
    return True


async def _asked_step(message: Message, state: FSMContext, services: Services, lang: str) -> FormStep | None:
    """The form step a message answers; without one, the menu is shown and None returned."""
    step = await FormStep.load(message, state, services, lang)
    if step is None or step.asked is None:
        await state.clear()
        await views.show(message, views.menu())
        return None
    return step


async def typed_answer(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    step = await _asked_step(message, state, services, lang)
    if step is None or step.asked is None:
        return
    field = step.spec.user_inputs[step.asked]
    if forms.field_kind(field) == "media":
        await step.hint()
        return
    await _accept(step, field.name, forms.read_text(field, message.text or ""))


async def sent_media(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    step = await _asked_step(message, state, services, lang)
    if step is None or step.asked is None:
        return
    field = step.spec.user_inputs[step.asked]
    media = forms.incoming_media(message)
    if media is None:
        await state.clear()
        await views.show(message, views.menu())
        return
    if forms.field_kind(field) != "media":
        await step.hint()
        return
    refusal = services.catalog.check_media(
        step.spec.id, field.name, kind=media.kind, mime_type=media.mime_type, size=media.size
    )
    if refusal is not None:  # the wrong kind or format, or too large (never above Telegram's 20 MB)
        await step.ask(field.name, prefix=f"⚠️ {refusal.message(lang)}\n\n")
        return
    values = forms.add_file(field, step.form.values, media.file_id)
    errors = forms.errors_for(services.catalog, step.spec, values, field.name)
    if errors:
        await step.ask(field.name, prefix=views.field_errors(errors, lang) + "\n\n")
        return
    step.form.values = values
    if field.type == "array" and forms.file_count(values, field.name) < forms.max_files(field):
        # More files may follow (an album comes as several messages); "Done" moves on.
        await step.ask(field.name)
    else:
        await step.advance()
