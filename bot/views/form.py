"""The form: one question at a time, the overview of every input, the confirmation card."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot import forms, keyboards
from bot.keyboards import button, home_row, markup, menu_button
from bot.views.common import Screen, credits
from catalog import Catalog, FieldError, InputSpec, ModelSpec
from catalog.messages import format_value
from contracts.buttons import FormAction, FormOp, Generate, MenuTarget
from db import Balance
from genflow.wait_text import backpressure_text


def form_button(
    form: forms.Form, op: FormOp, index: int | None = None, value: int | None = None
) -> FormAction:
    return FormAction(form=form.fid, op=op, index=index, value=value)


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
            rows.append([button(_("✅ Done"), form_button(form, FormOp.DONE))])
    elif kind == "choice":
        lines.append(_("Choose a value (or type it):"))
        options, pages = forms.choice_page(field, form.page)
        per_row = 3 if all(len(str(value)) <= 8 for _index, value in options) else 2
        choice_buttons = [
            button(format_value(value, lang), form_button(form, FormOp.CHOOSE, index, i))
            for i, value in options
        ]
        rows += [choice_buttons[i : i + per_row] for i in range(0, len(choice_buttons), per_row)]
        if pages > 1:
            nav = []
            if form.page > 0:
                nav.append(button("‹", form_button(form, FormOp.PAGE, index, form.page - 1)))
            nav.append(button(f"{form.page + 1}/{pages}", form_button(form, FormOp.PAGE, index, form.page)))
            if form.page < pages - 1:
                nav.append(button("›", form_button(form, FormOp.PAGE, index, form.page + 1)))
            rows.append(nav)
    elif kind == "boolean":
        lines.append(_("Choose:"))
        rows.append(
            [
                button(format_value(True, lang), form_button(form, FormOp.YES_NO, index, 1)),
                button(format_value(False, lang), form_button(form, FormOp.YES_NO, index, 0)),
            ]
        )
    else:
        lines.append(_text_prompt(field, kind))
    current = forms.show_value(field, forms.current_value(field, form.values), lang, limit=200)
    if current is not None and kind != "media":
        lines.append(_("Now: {value}").format(value=current))
    if not forms.needs_answer(field):
        label = _("↩️ Default") if field.default is not None else _("🚫 Clear")
        rows.append([button(label, form_button(form, FormOp.DEFAULT, index))])
    rows.append([button(_("⬅️ To the form"), form_button(form, FormOp.OVERVIEW)), *home_row()])
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
        rows.append([button(label, form_button(form, FormOp.ASK, index))])
    if missing:
        lines.append(_("Still needed: {fields}.").format(fields=", ".join(_titles(spec, missing, lang))))
    else:
        rows.append([button(_("✨ Generate"), form_button(form, FormOp.GENERATE))])
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
    if form.copies > 1:  # "more like this": the price is per variant, the total for all of them
        each = price
        price *= form.copies
        lines.append(_("Variants: {n} × {each}").format(n=form.copies, each=credits(each, lang)))
    if form.parent:
        lines.append(_("Follows up your earlier result."))
    rows: keyboards.Rows = []
    if free:
        lines.append(_("Price: free (daily allowance)"))
        rows.append([button(_("✨ Generate"), Generate(key=form.key))])
    else:
        lines.append(_("Price: {price}").format(price=credits(price, lang)))
        lines.append(_("Available: {available}").format(available=credits(balance.available, lang)))
        if balance.available >= price:
            lines.append(_("After: {after}").format(after=credits(balance.available - price, lang)))
            rows.append([button(_("✨ Generate · {price}").format(price=price), Generate(key=form.key))])
        else:
            shortfall = price - balance.available
            lines.append(_("Not enough credits: {shortfall} more needed.").format(shortfall=shortfall))
            rows.append([menu_button(_("💳 Top up"), MenuTarget.TOP_UP)])
    if queue_wait is not None:
        lines += ["", backpressure_text(queue_wait, lang)]
    rows.append([button(_("✏️ Change inputs"), form_button(form, FormOp.OVERVIEW))])
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
    rows = [[button(_("⬅️ To the form"), form_button(form, FormOp.OVERVIEW))], home_row()]
    return text, markup(rows)
