"""Screens shared by several routers: each returns (text, keyboard), texts in the current i18n locale.

Messages are plain text (no parse mode): prompts and values typed by users are shown as they are.
"""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import forms, keyboards
from bot.keyboards import button, home_row, markup
from catalog import Catalog, FieldError, InputSpec, ModelSpec
from catalog.messages import credits_word, format_value
from db import Balance
from genflow.wait_text import backpressure_text

Screen = tuple[str, InlineKeyboardMarkup]


def credits(amount: int, lang: str) -> str:
    """ "4 credits", "4 кредита"."""
    return f"{amount} {credits_word(amount, lang)}"


def credits_after_from(amount: int, lang: str) -> str:
    """After "from" (Russian «от» takes the genitive): "4 credits", "4 кредитов", "1 кредита"."""
    if lang != "ru":
        return credits(amount, lang)
    return f"{amount} {'кредита' if amount % 10 == 1 and amount % 100 != 11 else 'кредитов'}"


def menu(first_name: str | None = None) -> Screen:
    greeting = _("Hi, {name}!").format(name=first_name) + "\n" if first_name else ""
    text = greeting + _(
        "I make images, videos and music with AI models. Pick a format and a model, fill in a short form "
        "and confirm the price in credits. What shall we do?"
    )
    return text, keyboards.main_menu()


# ---- create: formats, models, model card -----------------------------------------------------------------


def formats(catalog: Catalog, lang: str) -> Screen:
    rows = [
        [button(fmt.title_for(lang), f"c:f:{fmt.id}")] for fmt in catalog.formats if catalog.by_format(fmt.id)
    ]
    return _("What would you like to create?"), markup([*rows, home_row()])


def models(catalog: Catalog, format_id: str, lang: str) -> Screen:
    fmt = catalog.format(format_id)
    rows = []
    for model in catalog.by_format(format_id):
        price = catalog.price_rule(model.id)
        if price.free:
            label = _("free")
        else:
            label = _("from {price}").format(price=credits_after_from(catalog.starting_price(model.id), lang))
        rows.append([button(f"{model.title_for(lang)} · {label}", f"c:m:{model.code}")])
    rows.append([button(_("⬅️ Back"), keyboards.CREATE), *home_row()])
    return _("{format}: choose a model").format(format=fmt.title_for(lang)), markup(rows)


def model_card(catalog: Catalog, spec: ModelSpec, lang: str) -> Screen:
    lines = [spec.title_for(lang), spec.description_for(lang), "", _("Inputs:")]
    for field in spec.user_inputs.values():
        mark = " *" if forms.needs_answer(field) else ""
        lines.append(f"• {field.title_for(lang)}{mark}")
    lines += ["", _("Price:"), catalog.describe_price_rules(spec.id, lang)]
    if any(forms.needs_answer(f) for f in spec.user_inputs.values()):
        lines += ["", _("* required")]
    rows = [
        [button(_("▶️ Start"), f"c:s:{spec.code}")],
        [button(_("⬅️ Back"), f"c:f:{spec.format}"), *home_row()],
    ]
    return "\n".join(lines), markup(rows)


# ---- the form --------------------------------------------------------------------------------------------


def form_button(form: forms.Form, op: str) -> str:
    return f"f:{form.fid}:{op}"


def question(catalog: Catalog, spec: ModelSpec, field: InputSpec, form: forms.Form, lang: str) -> Screen:
    """Ask for one input: how to answer, its choices as buttons, and a way back."""
    index = forms.field_index(spec, field.name)
    title = field.title_for(lang)
    kind = forms.field_kind(field)
    lines = [f"{spec.title_for(lang)} · {title}"]
    rows: keyboards.Rows = []
    if kind == "media":
        lines.append(media_prompt(catalog, spec, field, lang))
        count = forms.file_count(form.values, field.name)
        if field.type == "array" and count:
            lines.append(
                _("Received: {count} of up to {max}.").format(count=count, max=forms.max_files(field))
            )
            rows.append([button(_("✅ Done"), form_button(form, "ok"))])
    elif kind == "choice":
        lines.append(_("Choose a value (or type it):"))
        options, pages = forms.choice_page(field, form.page)
        per_row = 3 if all(len(str(value)) <= 8 for _index, value in options) else 2
        choice_buttons = [
            button(format_value(value, lang), form_button(form, f"v:{index}:{i}")) for i, value in options
        ]
        rows += [choice_buttons[i : i + per_row] for i in range(0, len(choice_buttons), per_row)]
        if pages > 1:
            nav = []
            if form.page > 0:
                nav.append(button("‹", form_button(form, f"p:{index}:{form.page - 1}")))
            nav.append(button(f"{form.page + 1}/{pages}", form_button(form, f"p:{index}:{form.page}")))
            if form.page < pages - 1:
                nav.append(button("›", form_button(form, f"p:{index}:{form.page + 1}")))
            rows.append(nav)
    elif kind == "boolean":
        lines.append(_("Choose:"))
        rows.append(
            [
                button(format_value(True, lang), form_button(form, f"b:{index}:1")),
                button(format_value(False, lang), form_button(form, f"b:{index}:0")),
            ]
        )
    else:
        lines.append(_text_prompt(field, kind))
    current = forms.show_value(field, forms.current_value(field, form.values), lang, limit=200)
    if current is not None and kind != "media":
        lines.append(_("Now: {value}").format(value=current))
    if not forms.needs_answer(field):
        label = _("↩️ Default") if field.default is not None else _("🚫 Clear")
        rows.append([button(label, form_button(form, f"d:{index}"))])
    rows.append([button(_("⬅️ To the form"), form_button(form, "ov")), *home_row()])
    return "\n".join(lines), markup(rows)


def media_prompt(catalog: Catalog, spec: ModelSpec, field: InputSpec, lang: str) -> str:
    """The catalog's "Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB.", and how many."""
    hint = catalog.media_hint(spec.id, field.name, lang)
    if field.type == "array" and forms.max_files(field) > 1:
        hint += " " + _("You can send up to {max} files, one by one or as an album.").format(
            max=forms.max_files(field)
        )
    return hint


def _text_prompt(field: InputSpec, kind: str) -> str:
    if kind == "number":
        if field.minimum is not None and field.maximum is not None:
            return _("Send a number from {min} to {max}.").format(min=field.minimum, max=field.maximum)
        return _("Send a number.")
    if kind == "json":
        return _("Send the value as JSON, for example: {example}").format(example='[{"text": "..."}]')
    if field.max_length:
        return _("Send the text (up to {max} characters).").format(max=field.max_length)
    return _("Send the text.")


def overview(catalog: Catalog, spec: ModelSpec, form: forms.Form, lang: str) -> Screen:
    """The form with every input and its current value; Generate once nothing required is missing."""
    missing = set(forms.missing_inputs(catalog, spec, form.values))
    lines = [spec.title_for(lang), _("Tap an input to change it.")]
    rows: keyboards.Rows = []
    for index, (name, field) in enumerate(spec.user_inputs.items()):
        shown = forms.show_value(field, forms.current_value(field, form.values), lang, limit=28)
        label = f"{field.title_for(lang)}: {shown}" if shown is not None else field.title_for(lang)
        if name in missing:
            label = "❗ " + label
        rows.append([button(label, form_button(form, f"a:{index}"))])
    if missing:
        lines.append(_("Still needed: {fields}.").format(fields=", ".join(_titles(spec, missing, lang))))
    else:
        rows.append([button(_("✨ Generate"), form_button(form, "go"))])
    rows.append(home_row())
    return "\n".join(lines), markup(rows)


def _titles(spec: ModelSpec, names: set[str], lang: str) -> list[str]:
    return [spec.user_inputs[n].title_for(lang) for n in spec.user_inputs if n in names]


def field_errors(errors: list[FieldError], lang: str) -> str:
    return "\n".join(f"⚠️ {error.message(lang)}" for error in errors)


def confirmation(
    spec: ModelSpec,
    form: forms.Form,
    inputs: dict[str, Any],
    price: int,
    free: bool,
    balance: Balance,
    lang: str,
    *,
    queue_wait: float | None = None,
) -> Screen:
    """The card the user confirms: inputs, the exact price, the balance before and after, and the wait
    in KIE's queue when it is long (said before the user pays)."""
    assert form.key is not None
    lines = [spec.title_for(lang), ""]
    for name, field in spec.user_inputs.items():
        shown = forms.show_value(field, inputs.get(name), lang, limit=300)
        if shown is not None:
            lines.append(f"{field.title_for(lang)}: {shown}")
    lines.append("")
    rows: keyboards.Rows = []
    if free:
        lines.append(_("Price: free (daily allowance)"))
        rows.append([button(_("✨ Generate"), f"g:{form.key}")])
    else:
        lines.append(_("Price: {price}").format(price=credits(price, lang)))
        lines.append(_("Available: {available}").format(available=credits(balance.available, lang)))
        if balance.available >= price:
            lines.append(_("After: {after}").format(after=credits(balance.available - price, lang)))
            rows.append([button(_("✨ Generate · {price}").format(price=price), f"g:{form.key}")])
        else:
            shortfall = price - balance.available
            lines.append(_("Not enough credits: {shortfall} more needed.").format(shortfall=shortfall))
            rows.append([button(_("💳 Top up"), keyboards.TOPUP)])
    if queue_wait is not None:
        lines += ["", backpressure_text(queue_wait, lang)]
    rows.append([button(_("✏️ Change inputs"), form_button(form, "ov"))])
    rows.append(home_row())
    return "\n".join(lines), markup(rows)


def step_hint(catalog: Catalog, spec: ModelSpec, form: forms.Form, lang: str) -> Screen:
    """What the current step expects, for a message that does not fit it."""
    field = spec.user_inputs.get(form.asking or "")
    if field is None:
        text = _("Please use the buttons of the form, or /cancel to leave it.")
    else:
        kind = forms.field_kind(field)
        if kind == "media":
            text = media_prompt(catalog, spec, field, lang)
        elif kind in ("choice", "boolean"):
            text = _("Please choose {field} with the buttons.").format(field=field.title_for(lang))
        else:
            text = _("Please send {field} as a text message.").format(field=field.title_for(lang))
    rows = [[button(_("⬅️ To the form"), form_button(form, "ov"))], home_row()]
    return text, markup(rows)


async def show(target: Message | CallbackQuery, screen: Screen) -> Message:
    """A button's answer replaces the message it was on; a message's answer is a new message."""
    text, reply_markup = screen
    if isinstance(target, CallbackQuery):
        message = target.message
        if isinstance(message, Message) and message.text is not None:
            try:
                edited = await message.edit_text(text, reply_markup=reply_markup)
                return edited if isinstance(edited, Message) else message
            except TelegramBadRequest as error:
                if "not modified" in error.message:
                    return message
                # too old to edit, deleted meanwhile...: a new message does as well
        chat_id = message.chat.id if message is not None else target.from_user.id
        assert target.bot is not None
        return await target.bot.send_message(chat_id, text, reply_markup=reply_markup)
    return await target.answer(text, reply_markup=reply_markup)
