"""A recipe's status message: which step runs, what each one cost, what came back."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from activities.telegram_errors import retryable_telegram_errors
from catalog import Catalog, UnknownModel
from contracts import activities as contract
from contracts.activities import implements
from contracts.buttons import Menu, MenuTarget, RecipeAction, RecipeOp
from contracts.models import Outcome
from contracts.recipes import RecipeNotice, StepReport
from genflow.translations import ntranslate
from genflow.translations import translate as _


class RecipeMessages:
    def __init__(self, bot: Bot, catalog: Catalog) -> None:
        self.bot = bot
        self.catalog = catalog

    @implements(contract.notify_recipe)
    async def notify_recipe(self, data: RecipeNotice) -> None:
        text = self.text(data)
        buttons: list[list[InlineKeyboardButton]] = []
        if not data.finished:
            cancel = RecipeAction(op=RecipeOp.CANCEL, ref=data.request_key)
            buttons.append(
                [InlineKeyboardButton(text=_("Cancel", data.language), callback_data=cancel.pack())]
            )
        elif data.shortfall:
            top_up = Menu(to=MenuTarget.TOP_UP).pack()
            buttons.append([InlineKeyboardButton(text=_("Top up", data.language), callback_data=top_up)])
        markup = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
        with retryable_telegram_errors():
            if data.message_id is not None:
                await self.bot.edit_message_text(
                    text=text, chat_id=data.chat_id, message_id=data.message_id, reply_markup=markup
                )
            else:
                await self.bot.send_message(data.chat_id, text, reply_markup=markup)

    def text(self, data: RecipeNotice) -> str:
        lang = data.language
        try:
            title = self.catalog.recipe(data.recipe_id).title_for(lang)
        except UnknownModel:
            title = data.recipe_id
        lines = [f"🧪 {title}", ""]
        for index, step in enumerate(data.steps):
            lines.append(f"{index + 1}. {self._model(step, lang)} — {self._state(step, index, data)}")
        charged = sum(s.price for s in data.steps if s.charged)
        if data.shortfall:
            lines += [
                "",
                _(
                    "Not enough credits: {shortfall} more needed. Nothing was held.",
                    lang,
                    shortfall=data.shortfall,
                ),
            ]
        elif data.finished:
            returned = sum(s.price for s in data.steps if not s.charged)
            lines += [
                "",
                _(
                    "Charged: {charged}. Returned to your balance: {returned}.",
                    lang,
                    charged=charged,
                    returned=returned,
                ),
            ]
        return "\n".join(lines)

    def _model(self, step: StepReport, lang: str) -> str:
        try:
            return self.catalog.get(step.model_id).title_for(lang)
        except UnknownModel:
            return step.model_id

    def _state(self, step: StepReport, index: int, data: RecipeNotice) -> str:
        lang = data.language
        if step.outcome == Outcome.SUCCEEDED:
            if not step.charged:
                return _("✅ done, free", lang)
            return ntranslate("✅ done, {n} credit", "✅ done, {n} credits", step.price, lang)
        if step.outcome is not None:
            return ntranslate("❌ failed, {n} credit back", "❌ failed, {n} credits back", step.price, lang)
        if data.running == index:
            return _("⏳ in progress", lang)
        if data.shortfall:  # refused before anything was held
            return ntranslate("{n} credit", "{n} credits", step.price, lang)
        if data.finished:
            return ntranslate("↩️ not run, {n} credit back", "↩️ not run, {n} credits back", step.price, lang)
        return ntranslate("⏸ waiting, {n} credit held", "⏸ waiting, {n} credits held", step.price, lang)
