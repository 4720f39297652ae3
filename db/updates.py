"""Telegram updates handled exactly once across bot replicas: a claim before handling, done after.

Telegram (and the webhook behind a load balancer) delivers at least once; a delivery whose answer was lost
comes again, possibly to another replica. ``claim`` lets one replica handle it; the others see it handled
(answer 200, do nothing) or in progress (wait for it). A claim expires after ``lease``: a replica killed
mid-update leaves it to the next delivery.
"""

from __future__ import annotations

import datetime as dt
import enum

import asyncpg


class Claim(enum.Enum):
    MINE = "mine"  # handle it
    DONE = "done"  # handled before: answer without handling again
    BUSY = "busy"  # another replica is handling it now


class BotUpdates:
    def __init__(self, pool: asyncpg.Pool, lease: dt.timedelta = dt.timedelta(seconds=30)) -> None:
        self._pool = pool
        self._lease = lease

    async def claim(self, bot_id: int, update_id: int) -> Claim:
        row = await self._pool.fetchrow(
            """
            INSERT INTO bot_updates (bot_id, update_id) VALUES ($3, $1)
            ON CONFLICT (bot_id, update_id) DO UPDATE
                SET claimed_at = now(), claims = bot_updates.claims + 1
                WHERE bot_updates.done_at IS NULL AND bot_updates.claimed_at < now() - $2::interval
            RETURNING update_id
            """,
            update_id,
            self._lease,
            bot_id,
        )
        if row is not None:
            return Claim.MINE
        done = await self._pool.fetchval(
            "UPDATE bot_updates SET duplicates = duplicates + (done_at IS NOT NULL)::int "
            "WHERE bot_id = $2 AND update_id = $1 RETURNING done_at IS NOT NULL",
            update_id,
            bot_id,
        )
        return Claim.DONE if done else Claim.BUSY

    async def done(self, bot_id: int, update_id: int) -> None:
        await self._pool.execute(
            "UPDATE bot_updates SET done_at = coalesce(done_at, now()), finishes = finishes + 1 "
            "WHERE bot_id = $2 AND update_id = $1",
            update_id,
            bot_id,
        )

    async def release(self, bot_id: int, update_id: int) -> None:
        """Handling failed (a transient error answered 500): the next delivery handles it afresh."""
        await self._pool.execute(
            "DELETE FROM bot_updates WHERE bot_id = $2 AND update_id = $1 AND done_at IS NULL",
            update_id,
            bot_id,
        )

    async def forget_old(self, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
        result: str = await self._pool.execute(
            "DELETE FROM bot_updates WHERE claimed_at < now() - $1::interval", older_than
        )
        return int(result.split()[-1])
