"""KIE accounts: which keys are in rotation, and each key's submit slots under KIE's sliding-window limit.

KIE accepts N new tasks per window per account and refuses the rest (429, nothing created). Temporal paces
the submit queue for all keys together (see worker.py); this table makes the limit exact per key and across
every worker replica: a submit takes a slot of a key with room (the least used first), under one advisory
lock, so two workers can never both take a key's last slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

# Fixed, like the migration lock: "kiekeys" in ASCII.
SLOTS_LOCK_ID = 0x6B69656B657973


@dataclass(frozen=True)
class Slot:
    """Either a key to submit with now, or how long until one of the active keys has room."""

    key_id: str | None
    wait_seconds: float = 0.0
    active_keys: int = 0


@dataclass(frozen=True)
class KeyState:
    key_id: str
    disabled_at: dt.datetime | None
    disabled_reason: str | None
    slots_in_window: int


class KieKeys:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(self, key_ids: list[str], *, tasks_per_period: int, period_seconds: float) -> None:
        """Called by each worker at start: the keys it was configured with (a disabled key stays so)."""
        await self._pool.executemany(
            """
            INSERT INTO kie_keys (key_id, tasks_per_period, period_seconds) VALUES ($1, $2, $3)
            ON CONFLICT (key_id) DO UPDATE
                SET tasks_per_period = $2, period_seconds = $3, seen_at = now()
            """,
            [(k, tasks_per_period, period_seconds) for k in key_ids],
        )

    async def take_slot(self, key_ids: list[str], *, margin_seconds: float, generation_id: str) -> Slot:
        """A slot on the active key (of ``key_ids``) with the most room, or the wait until one frees."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SLOTS_LOCK_ID)
            rows = await conn.fetch(
                """
                SELECT k.key_id, k.tasks_per_period AS lim,
                       count(s.taken_at) AS used,
                       min(s.taken_at) AS oldest,
                       extract(epoch FROM clock_timestamp()) AS now,
                       k.period_seconds + $2 AS window
                FROM kie_keys k
                LEFT JOIN kie_key_slots s ON s.key_id = k.key_id
                    AND s.taken_at > clock_timestamp() - make_interval(secs => k.period_seconds + $2)
                WHERE k.key_id = ANY ($1::text[]) AND k.disabled_at IS NULL
                GROUP BY k.key_id
                ORDER BY count(s.taken_at) * 1.0 / k.tasks_per_period, k.key_id
                """,
                key_ids,
                margin_seconds,
            )
            if not rows:
                return Slot(None, active_keys=0)
            free = [r for r in rows if r["used"] < r["lim"]]
            if not free:
                # The earliest moment a key's oldest slot leaves its window.
                wait = min(r["oldest"].timestamp() + r["window"] - float(r["now"]) for r in rows)
                return Slot(None, wait_seconds=max(0.01, wait), active_keys=len(rows))
            chosen = free[0]["key_id"]
            await conn.execute(
                "INSERT INTO kie_key_slots (key_id, generation_id) VALUES ($1, $2)", chosen, generation_id
            )
            await conn.execute("DELETE FROM kie_key_slots WHERE taken_at < now() - interval '1 minute'")
            return Slot(chosen, active_keys=len(rows))

    async def disable(self, key_id: str, reason: str, *, among: list[str]) -> bool:
        """Out of rotation for every worker, unless it is the last active key of ``among`` (nothing else
        could serve: it stays, and its refusals reach users as "temporarily unavailable").

        True only for the call that disabled it, so the admins are alerted once.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SLOTS_LOCK_ID)
            result: str = await conn.execute(
                """
                UPDATE kie_keys SET disabled_at = now(), disabled_reason = $2
                WHERE key_id = $1 AND disabled_at IS NULL AND EXISTS (
                    SELECT 1 FROM kie_keys o
                    WHERE o.key_id <> $1 AND o.key_id = ANY ($3::text[]) AND o.disabled_at IS NULL
                )
                """,
                key_id,
                reason[:500],
                among,
            )
        return result == "UPDATE 1"

    async def enable(self, key_id: str) -> bool:
        result: str = await self._pool.execute(
            "UPDATE kie_keys SET disabled_at = NULL, disabled_reason = NULL "
            "WHERE key_id = $1 AND disabled_at IS NOT NULL",
            key_id,
        )
        return result == "UPDATE 1"

    async def active(self, key_ids: list[str] | None = None) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT key_id FROM kie_keys WHERE disabled_at IS NULL "
            "AND ($1::text[] IS NULL OR key_id = ANY ($1::text[])) ORDER BY key_id",
            key_ids,
        )
        return [r["key_id"] for r in rows]

    async def states(self) -> list[KeyState]:
        rows = await self._pool.fetch(
            """
            SELECT k.key_id, k.disabled_at, k.disabled_reason,
                   (SELECT count(*) FROM kie_key_slots s WHERE s.key_id = k.key_id
                      AND s.taken_at > now() - make_interval(secs => k.period_seconds)) AS used
            FROM kie_keys k ORDER BY k.key_id
            """
        )
        return [KeyState(r["key_id"], r["disabled_at"], r["disabled_reason"], r["used"]) for r in rows]
