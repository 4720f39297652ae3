"""The asyncpg pool every part of Genflow uses to reach Postgres."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import asyncpg

log = logging.getLogger(__name__)

# A process starting while PostgreSQL restarts (a deploy of both, a failover) waits for it rather than exit.
STARTUP_RETRY_SECONDS = 60.0
# PostgreSQL away for now: refused or reset, a socket gone, the server starting up, shutting down (a
# connection in use is terminated with 57P01) or recovering from a crash. The same statement a moment later
# may well succeed. asyncpg now and then reports a connection terminated mid-statement as its protocol's
# InternalClientError ("cannot switch to state 12"; MagicStack/asyncpg#1069; seen in make chaos-replicas).
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.TooManyConnectionsError,
)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def init_connection(conn: asyncpg.Connection) -> None:
    """json/jsonb as Python values (dicts, lists) both ways. ``Ledger`` and ``Generations`` rely on it."""
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=_dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, retry_for: float = STARTUP_RETRY_SECONDS
) -> asyncpg.Pool:
    """A pool with ``min_size`` connections open; while PostgreSQL cannot be reached, retried for
    ``retry_for`` seconds (backing off to 2 s) before the last error is raised."""
    deadline = time.monotonic() + retry_for
    delay = 0.1
    while True:
        try:
            return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=init_connection)
        except UNREACHABLE as error:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("PostgreSQL not reachable yet (%s); retrying in %.1fs", type(error).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)
