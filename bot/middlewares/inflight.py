"""Counts updates being handled, so a stopping bot can let them finish and confirm them to Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update


class InFlightMiddleware(BaseMiddleware):
    def __init__(self) -> None:
        self.in_flight = 0
        self.last_update_id: int | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update):
            self.last_update_id = max(self.last_update_id or 0, event.update_id)
        self.in_flight += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def wait_idle(self, seconds: float) -> bool:
        """True when no update is being handled (anymore) within ``seconds``."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True
