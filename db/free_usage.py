"""The free allowance: free models give each user a few generations a day instead of costing credits.

Each claim is keyed like a ledger entry (``free:<generation id>``): a replay returns the first answer, and
giving an allowance back happens once.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from db.entries import check_key, lock_account
from db.errors import IdempotencyConflict, InvalidArgument

_SELECT_CLAIM = "SELECT user_id, day, granted FROM free_usage_claims WHERE key = $1"


class FreeAllowance:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def consume(self, user_id: int, *, day: dt.date, limit: int, key: str) -> bool:
        """Take one free generation of ``day`` if fewer than ``limit`` were used. The answer (granted or
        not) is recorded under ``key``: a replay returns the first answer."""
        check_key(key)
        if not isinstance(limit, int) or limit < 0:
            raise InvalidArgument(f"limit must be a whole number >= 0, got {limit!r}")
        async with self._pool.acquire() as conn, conn.transaction():
            await lock_account(conn, user_id)
            claim = await conn.fetchrow(_SELECT_CLAIM, key)
            if claim is None:
                await conn.execute(
                    "INSERT INTO daily_free_usage (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    user_id,
                    day,
                )
                # Record the key first (not granted); a concurrent claim of the same key by another
                # user waits on it here and then sees it.
                claim = await conn.fetchrow(
                    """
                    INSERT INTO free_usage_claims (key, user_id, day, granted) VALUES ($1, $2, $3, false)
                    ON CONFLICT DO NOTHING RETURNING user_id, day, granted
                    """,
                    key,
                    user_id,
                    day,
                )
                if claim is not None:
                    # The conditional UPDATE is the atomic "take one if any is left".
                    granted = await conn.fetchval(
                        """
                        UPDATE daily_free_usage SET used = used + 1
                        WHERE user_id = $1 AND day = $2 AND used < $3 RETURNING true
                        """,
                        user_id,
                        day,
                        limit,
                    )
                    if granted:
                        await conn.execute("UPDATE free_usage_claims SET granted = true WHERE key = $1", key)
                    return bool(granted)
                claim = await conn.fetchrow(_SELECT_CLAIM, key)
            if (claim["user_id"], claim["day"]) != (user_id, day):
                raise IdempotencyConflict(
                    key,
                    f"free allowance of user {claim['user_id']} on {claim['day']}",
                    f"free allowance of user {user_id} on {day}",
                )
            return bool(claim["granted"])

    async def give_back(self, *, key: str) -> bool:
        """Give back the allowance consumed under ``key``. True if it is returned (now or by an earlier
        call), False if the key consumed nothing (unknown key, or the allowance was refused)."""
        check_key(key)
        async with self._pool.acquire() as conn, conn.transaction():
            user_id = await conn.fetchval("SELECT user_id FROM free_usage_claims WHERE key = $1", key)
            if user_id is None:
                return False
            await lock_account(conn, user_id)
            claim = await conn.fetchrow(
                "SELECT day, granted, returned_at FROM free_usage_claims WHERE key = $1 FOR UPDATE", key
            )
            if not claim["granted"]:
                return False
            if claim["returned_at"] is None:
                await conn.execute(
                    "UPDATE daily_free_usage SET used = used - 1 WHERE user_id = $1 AND day = $2",
                    user_id,
                    claim["day"],
                )
                await conn.execute("UPDATE free_usage_claims SET returned_at = now() WHERE key = $1", key)
            return True

    async def used(self, user_id: int, *, day: dt.date) -> int:
        used = await self._pool.fetchval(
            "SELECT used FROM daily_free_usage WHERE user_id = $1 AND day = $2", user_id, day
        )
        return used or 0
