"""The "What next?" message under a delivered result: follow-ups that fit its media (animate an image,
upscale it, extend a video or a track…), upgrades KIE offers on its task (Veo 1080p/4K, extends), a re-roll,
a few more like it, and keeping it among favourites. Sent by the delivery; the bot handles the buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from catalog import Catalog, UnknownModel
from contracts.buttons import FollowOp, FollowUp
from genflow.translations import translate as _

PER_ROW = 2


def what_next(catalog: Catalog, model_id: str, key: str, lang: str) -> InlineKeyboardMarkup | None:
    """The follow-up keyboard for a result of ``model_id`` (``key``: its generation's request key)."""
    try:
        catalog.get(model_id)
    except UnknownModel:
        return None

    def button(text: str, op: FollowOp, ref: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=FollowUp(key=key, op=op, ref=ref).pack())

    offers = [
        button(group.title_for(lang), FollowOp.GROUP, group.id)
        for group, _m in catalog.followups_for(model_id)
    ]
    offers += [button("⏫ " + m.title_for(lang), FollowOp.USE, m.code) for m in catalog.upgrades_of(model_id)]
    rows = [offers[i : i + PER_ROW] for i in range(0, len(offers), PER_ROW)]
    rows.append(
        [
            button(_("🔁 Re-roll", lang), FollowOp.REROLL),
            button(_("➕ More like this", lang), FollowOp.MORE),
            button(_("⭐ Save", lang), FollowOp.FAVOURITE),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)
