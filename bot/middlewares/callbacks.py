"""Every callback query is answered once its handler is done, with the text the handler set on
``callback_answer`` — also when no handler matched, and with a generic apology when the handler failed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import gettext as _


class AnswerCallbacks(CallbackAnswerMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(
            properties=get_flag(data, "callback_answer")
        )
        if not answer.disabled and answer.answered:
            await self.answer(event, answer)
        try:
            return await handler(event, data)
        except Exception:
            if not answer.disabled and not answer.answered:
                answer.text = _("⚠️ Something went wrong. Please try again.")
            raise
        finally:
            if not answer.disabled and not answer.answered:
                await self.answer(event, answer)
