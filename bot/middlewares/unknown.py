"""Updates of a type this aiogram does not know (a newer Bot API) are dropped here, with one log line of ids.

aiogram would warn with the whole update in the message (names, texts), which the logs must not carry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update

from bot.middlewares.metrics import update_kind

log = logging.getLogger("bot.updates")


class IgnoreUnknownUpdates(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update) and update_kind(event) == "unknown":
            fields = sorted(k for k in (event.model_extra or {}) if k != "update_id")
            log.warning(
                "update of an unknown type ignored", extra={"update_id": event.update_id, "fields": fields}
            )
            return UNHANDLED
        return await handler(event, data)
