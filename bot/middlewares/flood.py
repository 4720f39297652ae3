"""Per-user flood control: a token bucket per user id.

Past the limit, updates are dropped with a friendly "slow down" (at most once per window); callback queries
are still answered so the button's spinner stops. Payment service messages (successful_payment,
refunded_payment) are never limited: Telegram sends them, not the user, and a paid top-up must not wait for
the reconciliation because the user had typed fast before paying.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

_FORGET_AFTER = 600.0  # seconds without updates before a user's bucket is dropped


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: float = float("-inf")


class FloodMiddleware(BaseMiddleware):
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.window = max(burst / rate_per_second, 1.0)  # one warning per this many seconds
        self._buckets: dict[int, _Bucket] = {}
        self._pruned = time.monotonic()

    def allow(self, user_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._prune(now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        return False

    def should_warn(self, user_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self._buckets[user_id]
        if now - bucket.warned < self.window:
            return False
        bucket.warned = now
        return True

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if isinstance(event, Message) and (event.successful_payment or event.refunded_payment):
            return await handler(event, data)
        if user is None or self.allow(user.id):
            return await handler(event, data)
        if isinstance(event, CallbackQuery):
            await event.answer(_("Slow down a little, please."))
        elif isinstance(event, Message) and self.should_warn(user.id):
            await event.answer(_("You are sending messages too fast. Please wait a few seconds."))
        return None

    def _prune(self, now: float) -> None:
        if now - self._pruned < _FORGET_AFTER:
            return
        self._pruned = now
        for user_id in [u for u, b in self._buckets.items() if now - b.updated > _FORGET_AFTER]:
            del self._buckets[user_id]
