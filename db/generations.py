"""The ``generations`` table: what each generation workflow asked for, where it is, what it produced.

Every write is idempotent (activities are retried): ``create`` inserts once, updates set values.
The pool must set the jsonb codec (``db.pool.create_pool`` does).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict

from contracts.ids import parse_generation_id

GenerationStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "rejected"]
FinalStatus = Literal["succeeded", "failed", "cancelled", "rejected"]
STATUSES: frozenset[str] = frozenset(get_args(GenerationStatus))
FINAL_STATUSES: frozenset[str] = frozenset(get_args(FinalStatus))
IN_PROGRESS_STATUSES: tuple[str, ...] = ("pending", "running")

# Columns set_stage(**fields) may write. A whitelist: the names are interpolated into SQL.
UPDATABLE_FIELDS: frozenset[str] = frozenset(
    {
        "chat_id",
        "model_id",
        "format",
        "inputs",
        "price",
        "free",
        "kie_task_ids",
        "result",
        "telegram_file_ids",
        "error_code",
        "error_message",
        "delivery_failed",
        "delivery_error",
        "status_message_id",
        "language",
    }
)


class GenerationRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    user_id: int
    chat_id: int
    model_id: str
    format: str
    inputs: dict[str, Any]
    price: int
    free: bool
    stage: str
    status: GenerationStatus
    kie_task_ids: list[str]
    result: Any
    telegram_file_ids: Any
    error_code: str | None
    error_message: str | None
    delivery_failed: bool
    delivery_error: str | None
    status_message_id: int | None
    language: str | None
    parent_id: str | None = None
    chain_id: str | None = None
    favourite: bool = False
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def request_key(self) -> str:
        """The key of the confirmation that started it (what buttons about it carry)."""
        parsed = parse_generation_id(self.id)
        return parsed.request_key if parsed else self.id


class CallbackTarget(BaseModel):
    model_id: str
    finished: bool


def _check_status(status: str, allowed: frozenset[str]) -> None:
    if status not in allowed:
        raise ValueError(f"status must be one of {sorted(allowed)}, got {status!r}")


class Generations:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self,
        id: str,
        user_id: int,
        chat_id: int,
        model_id: str,
        format: str,
        inputs: dict[str, Any],
        price: int,
        free: bool,
        language: str | None,
        status_message_id: int | None = None,
        parent_id: str | None = None,
        chain_id: str | None = None,
    ) -> bool:
        """Insert the generation if absent; False if a row with this id already existed (left as is).

        The user (and their empty account) is created if unknown, so a generation never waits for
        a separate ensure_user; an existing user's language is not touched.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO users (id, language) VALUES ($1, $2) ON CONFLICT DO NOTHING", user_id, language
            )
            await conn.execute("INSERT INTO accounts (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id)
            created = await conn.fetchval(
                """
                INSERT INTO generations (id, user_id, chat_id, model_id, format, inputs, price, free,
                                         language, status_message_id, parent_id, chain_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                ON CONFLICT (id) DO NOTHING RETURNING true
                """,
                id,
                user_id,
                chat_id,
                model_id,
                format,
                inputs,
                price,
                free,
                language,
                status_message_id,
                parent_id,
                chain_id,
            )
        return bool(created)

    async def set_stage(
        self, id: str, stage: str, status: GenerationStatus | None = None, **fields: Any
    ) -> bool:
        """Set the stage (and status, and any of UPDATABLE_FIELDS). False if there is no such generation."""
        if unknown := sorted(set(fields) - UPDATABLE_FIELDS):
            raise ValueError(f"set_stage cannot set {unknown}; allowed: {sorted(UPDATABLE_FIELDS)}")
        assignments = ["stage = $2", "updated_at = now()"]
        args: list[Any] = [id, stage]
        if status is not None:
            _check_status(status, STATUSES)
            args.append(status)
            assignments.append(f"status = ${len(args)}")
            # finished_at follows the status (first finish time kept): generations_finished_iff_final.
            if status in FINAL_STATUSES:
                assignments.append("finished_at = coalesce(finished_at, now())")
            else:
                assignments.append("finished_at = NULL")
        for name, value in sorted(fields.items()):
            args.append(value)
            assignments.append(f"{name} = ${len(args)}")
        result: str = await self._pool.execute(
            f"UPDATE generations SET {', '.join(assignments)} WHERE id = $1", *args
        )
        return result != "UPDATE 0"

    async def add_task_id(self, id: str, task_id: str, key_id: str | None = None) -> bool:
        """Remember a KIE task id (a lost submit answer may mean several) and the KIE account (key
        fingerprint) that made it. True if it was new."""
        async with self._pool.acquire() as conn, conn.transaction():
            result: str = await conn.execute(
                """
                UPDATE generations SET kie_task_ids = array_append(kie_task_ids, $2), updated_at = now()
                WHERE id = $1 AND NOT ($2 = ANY (kie_task_ids))
                """,
                id,
                task_id,
            )
            await conn.execute(
                "INSERT INTO kie_tasks (task_id, generation_id, key_id) VALUES ($1, $2, $3) "
                "ON CONFLICT (task_id) DO UPDATE SET key_id = coalesce(kie_tasks.key_id, $3)",
                task_id,
                id,
                key_id,
            )
        return result != "UPDATE 0"

    async def key_of_task(self, task_id: str) -> str | None:
        """The KIE account (key fingerprint) that made a task, when one of our generations made it."""
        key_id: str | None = await self._pool.fetchval(
            "SELECT key_id FROM kie_tasks WHERE task_id = $1", task_id
        )
        return key_id

    async def finish(
        self,
        id: str,
        status: FinalStatus,
        *,
        result: Any = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Record the outcome. finished_at keeps the first finish time when retried."""
        _check_status(status, FINAL_STATUSES)
        updated: str = await self._pool.execute(
            """
            UPDATE generations
            SET status = $2, result = $3, error_code = $4, error_message = $5,
                finished_at = coalesce(finished_at, now()), updated_at = now()
            WHERE id = $1
            """,
            id,
            status,
            result,
            error_code,
            error_message,
        )
        return updated != "UPDATE 0"

    async def set_file_ids(self, id: str, file_ids: Any) -> bool:
        """Telegram file ids of the delivered result (JSON: a list or a dict)."""
        updated: str = await self._pool.execute(
            "UPDATE generations SET telegram_file_ids = $2, updated_at = now() WHERE id = $1", id, file_ids
        )
        return updated != "UPDATE 0"

    async def mark_delivery_failed(self, id: str, reason: str) -> bool:
        updated: str = await self._pool.execute(
            """
            UPDATE generations SET delivery_failed = true, delivery_error = $2, updated_at = now()
            WHERE id = $1
            """,
            id,
            reason,
        )
        return updated != "UPDATE 0"

    async def get(self, id: str) -> GenerationRecord | None:
        row = await self._pool.fetchrow("SELECT * FROM generations WHERE id = $1", id)
        return None if row is None else GenerationRecord(**dict(row))

    async def callback_target(self, id: str) -> CallbackTarget | None:
        """What the webhooks server needs to know of a generation a callback names; None if unknown."""
        row = await self._pool.fetchrow(
            "SELECT model_id, status = ANY ($2::text[]) AS finished FROM generations WHERE id = $1",
            id,
            list(FINAL_STATUSES),
        )
        return None if row is None else CallbackTarget(model_id=row["model_id"], finished=row["finished"])

    async def recent_for_user(self, user_id: int, limit: int = 10) -> list[GenerationRecord]:
        """Newest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM generations WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            user_id,
            limit,
        )
        return [GenerationRecord(**dict(row)) for row in rows]

    async def set_favourite(self, id: str, user_id: int, favourite: bool) -> bool:
        """Keep a succeeded generation among the user's favourites (or not); False if it is not theirs."""
        result: str = await self._pool.execute(
            "UPDATE generations SET favourite = $3 WHERE id = $1 AND user_id = $2 AND status = 'succeeded'",
            id,
            user_id,
            favourite,
        )
        return result != "UPDATE 0"

    async def favourites(self, user_id: int, limit: int = 10) -> list[GenerationRecord]:
        """Newest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM generations WHERE user_id = $1 AND favourite ORDER BY created_at DESC LIMIT $2",
            user_id,
            limit,
        )
        return [GenerationRecord(**dict(row)) for row in rows]

    async def uses_by_model(self, days: int = 30) -> dict[str, int]:
        """Generations asked for per model over the last ``days`` (for "most used" in menus)."""
        rows = await self._pool.fetch(
            "SELECT model_id, count(*) AS n FROM generations "
            "WHERE created_at > now() - make_interval(days => $1) GROUP BY model_id",
            days,
        )
        return {r["model_id"]: int(r["n"]) for r in rows}

    async def in_progress_count(self, user_id: int) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM generations WHERE user_id = $1 AND status = ANY ($2::text[])",
            user_id,
            list(IN_PROGRESS_STATUSES),
        )
        return count
