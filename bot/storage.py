"""Bot state in PostgreSQL: aiogram's FSM storage, and the bot's small tables (migration 0003).

``PgStorage`` keeps each conversation's state and data in ``bot_fsm``, so a form survives a restart and any
replica can continue it. ``update_data`` merges in SQL (``data || new``): two replicas updating one user's
data at once both land. The pool must set the jsonb codec (``db.create_pool`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

_KEY = (
    "bot_id = $1 AND chat_id = $2 AND user_id = $3 AND thread_id = $4"
    " AND business_connection_id = $5 AND destiny = $6"
)
_COLUMNS = "bot_id, chat_id, user_id, thread_id, business_connection_id, destiny"


def _key(key: StorageKey) -> tuple[Any, ...]:
    return (
        key.bot_id,
        key.chat_id,
        key.user_id,
        key.thread_id or 0,
        key.business_connection_id or "",
        key.destiny,
    )


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class PgStorage(BaseStorage):
    """aiogram FSM storage on PostgreSQL. The pool is shared and not closed by ``close()``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._pool.execute(
            f"""
            INSERT INTO bot_fsm ({_COLUMNS}, state) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT ({_COLUMNS}) DO UPDATE SET state = EXCLUDED.state, updated_at = now()
            """,
            *_key(key),
            _state_name(state),
        )
        if state is None:
            await self._forget_if_empty(key)

    async def get_state(self, key: StorageKey) -> str | None:
        state: str | None = await self._pool.fetchval(f"SELECT state FROM bot_fsm WHERE {_KEY}", *_key(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._pool.execute(
            f"""
            INSERT INTO bot_fsm ({_COLUMNS}, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT ({_COLUMNS}) DO UPDATE SET data = EXCLUDED.data, updated_at = now()
            """,
            *_key(key),
            dict(data),
        )
        if not data:
            await self._forget_if_empty(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        data = await self._pool.fetchval(f"SELECT data FROM bot_fsm WHERE {_KEY}", *_key(key))
        return dict(data) if data else {}

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        """Like ``dict.update``, in one statement: concurrent updates of other keys are not lost."""
        merged = await self._pool.fetchval(
            f"""
            INSERT INTO bot_fsm ({_COLUMNS}, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT ({_COLUMNS}) DO UPDATE SET data = bot_fsm.data || EXCLUDED.data, updated_at = now()
            RETURNING data
            """,
            *_key(key),
            dict(data),
        )
        return dict(merged)

    async def close(self) -> None:
        """The pool belongs to the process, not to the storage."""

    async def _forget_if_empty(self, key: StorageKey) -> None:
        # A finished conversation leaves no row behind.
        await self._pool.execute(
            f"DELETE FROM bot_fsm WHERE {_KEY} AND state IS NULL AND data = '{{}}'::jsonb", *_key(key)
        )


@dataclass(frozen=True)
class StartedRequest:
    user_id: int
    request_key: str
    generation_id: str
    request: dict[str, Any]
    status_message_id: int | None
    age_seconds: float


class BotStore:
    """The bot's own records: claimed confirmations and deep-link payloads."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim_request(
        self, user_id: int, request_key: str, generation_id: str, request: dict[str, Any]
    ) -> bool:
        """True for the first claim of this confirmation; False when it was already claimed."""
        claimed = await self._pool.fetchval(
            """
            INSERT INTO bot_requests (user_id, request_key, generation_id, request) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING RETURNING true
            """,
            user_id,
            request_key,
            generation_id,
            request,
        )
        return bool(claimed)

    async def set_status_message(self, user_id: int, request_key: str, message_id: int) -> None:
        await self._pool.execute(
            "UPDATE bot_requests SET status_message_id = $3 WHERE user_id = $1 AND request_key = $2",
            user_id,
            request_key,
            message_id,
        )

    async def started_request(self, user_id: int, request_key: str) -> StartedRequest | None:
        row = await self._pool.fetchrow(
            """
            SELECT user_id, request_key, generation_id, request, status_message_id,
                   extract(epoch FROM now() - created_at)::float8 AS age_seconds
            FROM bot_requests WHERE user_id = $1 AND request_key = $2
            """,
            user_id,
            request_key,
        )
        return None if row is None else StartedRequest(**dict(row))

    async def remember_start_payload(self, user_id: int, payload: str) -> bool:
        """Keep the first payload a user came with; True when this one was stored."""
        stored = await self._pool.fetchval(
            """
            INSERT INTO bot_start_payloads (user_id, payload) VALUES ($1, $2)
            ON CONFLICT DO NOTHING RETURNING true
            """,
            user_id,
            payload,
        )
        return bool(stored)

    async def start_payload(self, user_id: int) -> str | None:
        payload: str | None = await self._pool.fetchval(
            "SELECT payload FROM bot_start_payloads WHERE user_id = $1", user_id
        )
        return payload
