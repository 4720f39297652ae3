"""Models KIE refused as invalid (422) although our catalog accepted the inputs: schema drift, seen the day
it happens. Written by the KIE submit activity; read by the admin panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class ModelRejection:
    model_id: str
    count: int
    last_at: dt.datetime
    last_message: str | None


class ModelRejections:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, generation_id: str, model_id: str, code: str | None, message: str | None) -> bool:
        """Record a refusal (idempotent per generation); True when it is the model's first in a day."""
        async with self._pool.acquire() as conn, conn.transaction():
            earlier: int = await conn.fetchval(
                "SELECT count(*) FROM model_rejections "
                "WHERE model_id = $1 AND created_at > now() - interval '1 day' AND generation_id <> $2",
                model_id,
                generation_id,
            )
            await conn.execute(
                "INSERT INTO model_rejections (generation_id, model_id, code, message) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (generation_id) DO NOTHING",
                generation_id,
                model_id,
                code,
                (message or "")[:500] or None,
            )
        return earlier == 0

    async def recent(self, days: int = 7) -> list[ModelRejection]:
        rows = await self._pool.fetch(
            """
            SELECT model_id, count(*) AS n, max(created_at) AS last_at,
                   (array_agg(message ORDER BY created_at DESC))[1] AS last_message
            FROM model_rejections WHERE created_at > now() - make_interval(days => $1)
            GROUP BY model_id ORDER BY max(created_at) DESC
            """,
            days,
        )
        return [ModelRejection(r["model_id"], int(r["n"]), r["last_at"], r["last_message"]) for r in rows]
