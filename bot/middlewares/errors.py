"""The last line: an update whose handling failed is logged (ids and the stack only: no message text, no
names) and the user gets a generic "something went wrong" with a way home.

In webhook mode transient failures (database, Temporal or Telegram unreachable) are re-raised instead: the
webhook then answers 500 and Telegram delivers the update again later.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.types import Chat, TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from temporalio.service import RPCError, RPCStatusCode

from bot import keyboards
from bot.middlewares.metrics import update_kind
from db.pool import UNREACHABLE
from genflow.i18n import pick_language

log = logging.getLogger("bot.errors")

_TRANSIENT_RPC = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


def is_transient(error: BaseException) -> bool:
    """A failure that a later delivery of the same update may not meet."""
    if isinstance(error, RPCError):
        return error.status in _TRANSIENT_RPC
    # PostgreSQL restarting (db.pool.UNREACHABLE: a connection terminated by its shutdown included).
    return isinstance(error, (*UNREACHABLE, TelegramNetworkError, TelegramServerError, TimeoutError))


class ErrorsMiddleware(BaseMiddleware):
    def __init__(self, i18n: I18n, *, reraise_transient: bool = False) -> None:
        self.i18n = i18n
        self.reraise_transient = reraise_transient

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except TelegramForbiddenError:
            log.info("the user blocked the bot; update dropped")  # nobody to answer
            return None
        except Exception as error:
            update_id = event.update_id if isinstance(event, Update) else None
            kind = update_kind(event)
            stack = "".join(traceback.format_tb(error.__traceback__))
            if self.reraise_transient and is_transient(error):
                log.warning(
                    "update failed on a transient error; Telegram will deliver it again",
                    extra={"update_id": update_id, "update_type": kind, "error": type(error).__name__},
                )
                raise
            # The exception's text may quote the user's input: only its type and the stack are logged.
            log.error(
                "update failed: %s\n%s",
                type(error).__name__,
                stack,
                extra={"update_id": update_id, "update_type": kind},
            )
            await self._tell_user(event, data)
            return None

    async def _tell_user(self, event: TelegramObject, data: dict[str, Any]) -> None:
        bot: Bot | None = data.get("bot")
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if bot is None:
            return
        lang = await self._language(user, data)
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = _("⚠️ Something went wrong. Please try again.")
            reply_markup = keyboards.home()
        callback = event.callback_query if isinstance(event, Update) else None
        if callback is not None:
            with suppress(TelegramAPIError):  # usually answered already (AnswerCallbacks)
                await bot.answer_callback_query(callback.id, text=text)
        chat_id = chat.id if chat is not None else user.id if user is not None else None
        if chat_id is not None:
            try:
                await bot.send_message(chat_id, text, reply_markup=reply_markup)
            except TelegramAPIError:
                log.warning("could not tell the user about the failure", extra={"chat_id": chat_id})

    @staticmethod
    async def _language(user: User | None, data: dict[str, Any]) -> str:
        if user is None:
            return pick_language(None)
        services = data.get("services")
        stored = None
        if services is not None:
            with suppress(Exception):  # the database may be what failed
                record = await services.ledger.get_user(user.id)
                stored = record.language if record else None
        return pick_language(stored or user.language_code)
