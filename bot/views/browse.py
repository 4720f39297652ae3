"""Create: the formats, a format's models, a model's card.

With 100+ models a format's first screen is short: the most used and the newest (``Catalog.shortlist``),
then "More" pages through every model of the format, newest first.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiogram.utils.i18n import gettext as _

from bot import forms
from bot.keyboards import Rows, button, home_row, markup, menu_button
from bot.views.common import Screen, credits, duration
from catalog import Catalog, ModelSpec
from catalog.messages import credits_from
from catalog.specs import localized
from contracts.buttons import FormatModels, MenuTarget, ModelCard, StartForm

SHORTLIST = 6  # models on a format's first screen
PAGE = 8  # models per "more" page


def formats(catalog: Catalog, lang: str) -> Screen:
    rows = [
        [button(fmt.title_for(lang), FormatModels(format=fmt.id))]
        for fmt in catalog.formats
        if catalog.by_format(fmt.id)
    ]
    return _("What would you like to create?"), markup([*rows, home_row()])


def models(catalog: Catalog, format_id: str, page: int, lang: str, uses: Mapping[str, int]) -> Screen:
    """Page 0: the shortlist and "More"; page n ≥ 1: the n-th page of all the format's models, newest first.
    Raises ``UnknownFormat`` for a format the catalog does not have."""
    fmt = catalog.format(format_id)
    everything = catalog.newest(format_id)
    if page == 0:
        shown = catalog.shortlist(format_id, SHORTLIST, uses)
        title = _("{format}: popular and new").format(format=fmt.title_for(lang))
    else:
        shown = everything[(page - 1) * PAGE : page * PAGE]
        title = _("{format}: all models").format(format=fmt.title_for(lang))
    rows: Rows = [[button(_model_label(catalog, m, lang), ModelCard(code=m.code))] for m in shown]
    pages = -(-len(everything) // PAGE)
    nav = []
    if page == 0 and len(everything) > len(shown):
        nav.append(
            button(_("➕ More ({count})").format(count=len(everything)), FormatModels(format=fmt.id, page=1))
        )
    elif page > 0:
        nav.append(button("‹", FormatModels(format=fmt.id, page=page - 1)))
        nav.append(button(f"{page}/{pages}", FormatModels(format=fmt.id, page=page)))
        if page < pages:
            nav.append(button("›", FormatModels(format=fmt.id, page=page + 1)))
    rows.append(nav)
    rows.append([menu_button(_("⬅️ Back"), MenuTarget.CREATE), *home_row()])
    return title, markup(rows)


def _model_label(catalog: Catalog, model: ModelSpec, lang: str) -> str:
    if catalog.price_rule(model.id).free:
        price = _("free")
    else:
        price = credits_from(catalog.starting_price(model.id), lang)
    return f"{model.title_for(lang)} · {price}"


def model_card(catalog: Catalog, spec: ModelSpec, lang: str) -> Screen:
    """What the model is good at, its price range and its speed, its inputs, and its price list."""
    lines = [spec.title_for(lang), spec.description_for(lang), ""]
    if spec.good_for:
        lines.append(_("Good for: {what}").format(what=localized(spec.good_for, lang)))
    if catalog.price_rule(spec.id).free:
        lines.append(_("Price: free (daily allowance)"))
    else:
        low, high = catalog.price_range(spec.id)
        span = credits(low, lang) if low == high else f"{low}–{credits(high, lang)}"
        lines.append(_("Price: {span}").format(span=span))
    lines.append(_("Usually ready in {time}").format(time=duration(catalog.usual_seconds(spec.id))))
    lines += ["", _("Inputs:")]
    for field in spec.user_inputs.values():
        mark = " *" if forms.needs_answer(field) else ""
        lines.append(f"• {field.title_for(lang)}{mark}")
    lines += ["", _("Prices:"), catalog.describe_price_rules(spec.id, lang)]
    if any(forms.needs_answer(f) for f in spec.user_inputs.values()):
        lines += ["", _("* required")]
    rows = [
        [button(_("▶️ Start"), StartForm(code=spec.code))],
        [button(_("⬅️ Back"), FormatModels(format=spec.format)), *home_row()],
    ]
    return "\n".join(lines), markup(rows)
