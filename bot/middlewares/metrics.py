"""Per-update metrics: ``genflow_bot_updates_total{kind, outcome}`` and the handling time by kind.

Registered inside the errors middleware, so it sees a failure before the errors middleware answers it:
outcomes are ``handled``, ``unhandled`` (no handler took it), ``blocked`` (the user blocked the bot) and
``failed``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from genflow.metrics import HttpMetrics


def update_kind(event: TelegramObject) -> str:
    """The update's type ("message", "callback_query", ...); "unknown" for a type this aiogram does not know
    (a newer Bot API), where ``Update.event_type`` raises."""
    if not isinstance(event, Update):
        return type(event).__name__
    try:
        return event.event_type
    except UpdateTypeLookupError:
        return "unknown"


class UpdateMetrics(BaseMiddleware):
    def __init__(self, metrics: HttpMetrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = update_kind(event) if isinstance(event, Update) else "unknown"
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        except TelegramForbiddenError:
            outcome = "blocked"
            raise
        finally:
            self.metrics.observe_update(kind, outcome, time.perf_counter() - started)
