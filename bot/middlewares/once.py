"""Each Telegram update handled once across bot replicas (webhook mode).

Telegram delivers at least once: an answer lost on the way back, a replica killed mid-update or a load
balancer retrying on the other replica all bring the same update again. The first replica to claim it in
PostgreSQL (``db.BotUpdates``) handles it; a later delivery of a handled update is answered without handling,
and one that arrives while another replica is still at it waits for that one (then answers the same way),
or, past ``wait``, fails so that Telegram delivers it again later. A transient failure (re-raised by the
errors middleware inside this one) releases the claim: the next delivery handles the update afresh.
Long polling needs none of this: one poller, and getUpdates' offset confirms each update once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from db import BotUpdates, Claim

log = logging.getLogger("bot.updates")
FORGET_EVERY = 3600.0  # seconds


class UpdateInProgress(RuntimeError):
    """Another replica holds the update's claim: answer non-2xx, Telegram delivers it again."""


class OnceMiddleware(BaseMiddleware):
    def __init__(self, updates: BotUpdates, *, wait: float = 10.0, every: float = 0.2) -> None:
        self.updates = updates
        self.wait = wait
        self.every = every
        self._forgot_at = time.monotonic()
        self._forgetting: asyncio.Task[int] | None = None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        update_id, bot_id = event.update_id, data["bot"].id
        claim = await self._claim(bot_id, update_id)
        if claim is Claim.DONE:
            log.info("update delivered again; handled before", extra={"update_id": update_id})
            return None
        try:
            result = await handler(event, data)
        except BaseException:
            await asyncio.shield(self.updates.release(bot_id, update_id))
            raise
        await asyncio.shield(self._mark_done(bot_id, update_id))
        self._forget_old()
        return result

    async def _mark_done(self, bot_id: int, update_id: int) -> None:
        """The update was handled: record it, retrying while PostgreSQL is away. If that never succeeds the
        answer is still 200 (Telegram would otherwise deliver it again, and it would be handled twice)."""
        deadline = time.monotonic() + self.wait
        delay = 0.1
        while True:
            try:
                await self.updates.done(bot_id, update_id)
                return
            except Exception as error:
                if time.monotonic() + delay > deadline:
                    log.warning(
                        "handled update not recorded as done",
                        extra={"update_id": update_id, "error": type(error).__name__},
                    )
                    return
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    def _forget_old(self) -> None:
        """Hourly, in the background: claims older than a day go (Telegram gives up on an update by then)."""
        if time.monotonic() - self._forgot_at < FORGET_EVERY or self._forgetting is not None:
            return
        self._forgot_at = time.monotonic()
        self._forgetting = asyncio.create_task(self.updates.forget_old())
        self._forgetting.add_done_callback(self._forgotten)

    def _forgotten(self, task: asyncio.Task[int]) -> None:
        self._forgetting = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("old update claims not forgotten", extra={"error": type(task.exception()).__name__})

    async def _claim(self, bot_id: int, update_id: int) -> Claim:
        deadline = time.monotonic() + self.wait
        while (claim := await self.updates.claim(bot_id, update_id)) is Claim.BUSY:
            if time.monotonic() >= deadline:
                log.warning("update in progress on another replica", extra={"update_id": update_id})
                raise UpdateInProgress(update_id)
            await asyncio.sleep(self.every)
        return claim
