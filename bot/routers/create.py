"""Create: formats → models with their starting price → the model's card → the form, step by step.

Form buttons carry ``f:<form id>:<op>[:<args>]``; the form id tells a button of the current form from one
left on an older message. Operations:
  a:<i>        ask input i (from the overview)         v:<i>:<j>  choose value j of input i
  b:<i>:<0|1>  answer a yes/no input                    p:<i>:<n>  page n of input i's choices
  d:<i>        back to the default / clear input i      ok         done sending files
  ov           the overview                              go         the confirmation card
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import flow, forms, keyboards, views
from bot.services import Services
from bot.states import FormStates
from catalog import ModelSpec, UnknownFormat, UnknownModel

MEDIA = F.photo | F.video | F.video_note | F.animation | F.audio | F.voice | F.document


def router() -> Router:
    r = Router(name="create")
    r.message.register(formats, Command("create"))
    r.callback_query.register(formats, F.data == keyboards.CREATE)
    r.callback_query.register(models, F.data.startswith("c:f:"))
    r.callback_query.register(model_card, F.data.startswith("c:m:"))
    r.callback_query.register(start_form, F.data.startswith("c:s:"))
    r.callback_query.register(form_button, F.data.startswith("f:"))
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
    callback: CallbackQuery, services: Services, lang: str, callback_answer: CallbackAnswer
) -> None:
    try:
        screen = views.models(services.catalog, (callback.data or "").removeprefix("c:f:"), lang)
    except UnknownFormat:
        return stale(callback_answer)
    await views.show(callback, screen)


async def model_card(
    callback: CallbackQuery, services: Services, lang: str, callback_answer: CallbackAnswer
) -> None:
    spec = _model(services, (callback.data or "").removeprefix("c:m:"))
    if spec is None:
        return stale(callback_answer)
    await views.show(callback, views.model_card(services.catalog, spec, lang))


async def start_form(
    callback: CallbackQuery, state: FSMContext, services: Services, lang: str, callback_answer: CallbackAnswer
) -> None:
    spec = _model(services, (callback.data or "").removeprefix("c:s:"))
    if spec is None:
        return stale(callback_answer)
    await state.clear()
    await flow.advance(callback, state, services, spec, forms.new_form(spec.id), lang)


async def form_button(
    callback: CallbackQuery, state: FSMContext, services: Services, lang: str, callback_answer: CallbackAnswer
) -> None:
    parts = (callback.data or "").split(":")
    loaded = await flow.load(state, services)
    if loaded is None or len(parts) < 3 or parts[1] != loaded[0].fid:
        callback_answer.text = _("This form is closed. Open /menu to start a new one.")
        return
    form, spec = loaded
    op, args = parts[2], parts[3:]
    # Our buttons carry small ASCII numbers; str.isdigit alone also passes "²" or "①", which int() refuses.
    numbers = [int(a) for a in args if a.isascii() and a.isdigit() and len(a) <= 6]
    if len(numbers) != len(args):
        return stale(callback_answer)
    field = forms.field_at(spec, numbers[0]) if numbers else None

    if op == "ov" and not args:
        await flow.overview(callback, state, services, spec, form, lang)
    elif op == "go" and not args:
        errors = await flow.confirm(callback, state, services, spec, form, lang, callback.from_user.id)
        if errors:
            callback_answer.text = _("Some inputs need attention.")
    elif op == "ok" and not args and form.asking:
        await flow.advance(callback, state, services, spec, form, lang)
    elif op == "a" and len(args) == 1 and field is not None:
        await flow.ask(callback, state, services, spec, form, field.name, lang)
    elif op == "d" and len(args) == 1 and field is not None and not forms.needs_answer(field):
        form.values.pop(field.name, None)
        await flow.advance(callback, state, services, spec, form, lang)
    elif field is None or field.name != form.asking:
        stale(callback_answer)  # a choice of a question that is not the current one
    elif op == "p" and len(args) == 2:
        await flow.ask(callback, state, services, spec, form, field.name, lang, page=numbers[1])
    elif op == "v" and len(args) == 2 and 0 <= numbers[1] < len(field.enum or []):
        await _accept(callback, state, services, spec, form, field.name, (field.enum or [])[numbers[1]], lang)
    elif op == "b" and len(args) == 2 and numbers[1] in (0, 1):
        await _accept(callback, state, services, spec, form, field.name, bool(numbers[1]), lang)
    else:
        stale(callback_answer)


async def _accept(
    target: Message | CallbackQuery,
    state: FSMContext,
    services: Services,
    spec: ModelSpec,
    form: forms.Form,
    name: str,
    value: object,
    lang: str,
) -> bool:
    """Take ``value`` for input ``name`` if the catalog accepts it; otherwise say why and ask again."""
    values = {**form.values, name: value}
    errors = forms.errors_for(services.catalog, spec, values, name)
    if errors:
        prefix = views.field_errors(errors, lang) + "\n\n"
        # An answer typed as a message gets its errors in a new message; a button's replace the question.
        await flow.ask(target, state, services, spec, form, name, lang, page=form.page, prefix=prefix)
        return False
    form.values = values
    await flow.advance(target, state, services, spec, form, lang)
    return True


async def typed_answer(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    loaded = await flow.load(state, services)
    field = loaded[1].user_inputs.get(loaded[0].asking or "") if loaded else None
    if loaded is None or field is None:
        await state.clear()
        await views.show(message, views.menu())
        return
    form, spec = loaded
    if forms.field_kind(field) == "media":
        await views.show(message, views.step_hint(services.catalog, spec, form, lang))
        return
    await _accept(
        message, state, services, spec, form, field.name, forms.read_text(field, message.text or ""), lang
    )


async def sent_media(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    loaded = await flow.load(state, services)
    field = loaded[1].user_inputs.get(loaded[0].asking or "") if loaded else None
    media = forms.incoming_media(message)
    if loaded is None or field is None or media is None:
        await state.clear()
        await views.show(message, views.menu())
        return
    form, spec = loaded
    if forms.field_kind(field) != "media":
        await views.show(message, views.step_hint(services.catalog, spec, form, lang))
        return
    refusal = services.catalog.check_media(
        spec.id, field.name, kind=media.kind, mime_type=media.mime_type, size=media.size
    )
    if refusal is not None:  # the wrong kind or format, or too large (never above Telegram's 20 MB)
        prefix = f"⚠️ {refusal.message(lang)}\n\n"
        await flow.ask(message, state, services, spec, form, field.name, lang, prefix=prefix)
        return
    values = forms.add_file(field, form.values, media.file_id)
    errors = forms.errors_for(services.catalog, spec, values, field.name)
    if errors:
        prefix = views.field_errors(errors, lang) + "\n\n"
        await flow.ask(message, state, services, spec, form, field.name, lang, prefix=prefix)
        return
    form.values = values
    if field.type == "array" and forms.file_count(values, field.name) < forms.max_files(field):
        # More files may follow (an album comes as several messages); "Done" moves on.
        await flow.ask(message, state, services, spec, form, field.name, lang)
    else:
        await flow.advance(message, state, services, spec, form, lang)
