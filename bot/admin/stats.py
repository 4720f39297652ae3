"""Read-only SQL for the admin panel: statistics over a period, a user's file, generations waiting too long.

Nothing here writes: every admin action that moves money is a workflow (``bot/routers/admin.py`` starts it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import asyncpg

from catalog import Catalog, UnknownFormat
from db import Hold, PaymentRecord

GENERATION_STATUSES = ("succeeded", "failed", "cancelled", "rejected", "running", "pending")


@dataclass(frozen=True)
class PeriodStats:
    """What happened since ``since``: generations by format and status, and the money around them."""

    since: dt.datetime
    generations: dict[str, dict[str, int]] = field(default_factory=dict)  # format -> status -> count
    charged: int = 0  # credits charged for generations
    refunds: int = 0  # refund entries (an admin gave a generation's credits back)
    refunded: int = 0  # their credits
    released: int = 0  # holds released (failed, cancelled or timed-out generations: nothing charged)
    topups: int = 0  # Stars payments credited in the period (refunded later or not)
    topup_stars: int = 0
    topup_credits: int = 0
    topup_refunds: int = 0  # Stars payments refunded in the period
    topup_refund_stars: int = 0

    @property
    def generation_count(self) -> int:
        return sum(sum(by_status.values()) for by_status in self.generations.values())

    def by_status(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for by_status in self.generations.values():
            for status, count in by_status.items():
                totals[status] = totals.get(status, 0) + count
        return totals


async def period_stats(pool: asyncpg.Pool, since: dt.datetime) -> PeriodStats:
    rows = await pool.fetch(
        """
        SELECT format, status, count(*) AS n FROM generations WHERE created_at >= $1
        GROUP BY format, status ORDER BY format, status
        """,
        since,
    )
    generations: dict[str, dict[str, int]] = {}
    for row in rows:
        generations.setdefault(row["format"], {})[row["status"]] = row["n"]
    money = await pool.fetchrow(
        """
        SELECT coalesce(sum(amount) FILTER (WHERE kind = 'charge' AND generation_id IS NOT NULL), 0)
                   AS charged,
               count(*) FILTER (WHERE kind = 'refund') AS refunds,
               coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded,
               coalesce(sum(amount) FILTER (WHERE kind = 'release' AND generation_id IS NOT NULL), 0)
                   AS released
        FROM ledger_entries WHERE created_at >= $1
        """,
        since,
    )
    topups = await pool.fetchrow(
        """
        SELECT count(*) AS n, coalesce(sum(stars), 0) AS stars, coalesce(sum(credits), 0) AS credits
        FROM payments WHERE created_at >= $1
        """,
        since,
    )
    refunds = await pool.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(stars), 0) AS stars FROM payments WHERE refunded_at >= $1", since
    )
    return PeriodStats(
        since=since,
        generations=generations,
        charged=money["charged"],
        refunds=money["refunds"],
        refunded=money["refunded"],
        released=money["released"],
        topups=topups["n"],
        topup_stars=topups["stars"],
        topup_credits=topups["credits"],
        topup_refunds=refunds["n"],
        topup_refund_stars=refunds["stars"],
    )


def start_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight UTC of ``now``'s day."""
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


# ---- generations waiting longer than usual ------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    id: str
    user_id: int
    model_id: str
    format: str
    stage: str
    age_seconds: float
    usual_seconds: int


async def waiting_too_long(pool: asyncpg.Pool, catalog: Catalog, limit: int = 20) -> list[Waiting]:
    """Running generations older than their format's usual time, the longest waiting first."""
    rows = await pool.fetch(
        """
        SELECT id, user_id, model_id, format, stage,
               extract(epoch FROM now() - created_at)::float8 AS age_seconds
        FROM generations WHERE status = 'running' ORDER BY created_at LIMIT 1000
        """
    )
    found = []
    for row in rows:
        try:
            usual = catalog.format(row["format"]).usual_seconds
        except UnknownFormat:
            usual = 0  # a format since removed from the catalog: anything running that long is worth a look
        if row["age_seconds"] > usual:
            found.append(Waiting(**dict(row), usual_seconds=usual))
    return found[:limit]


# ---- one user ---------------------------------------------------------------------------------------------


async def open_holds(pool: asyncpg.Pool, user_id: int) -> list[Hold]:
    rows = await pool.fetch(
        "SELECT * FROM holds WHERE user_id = $1 AND state = 'open' ORDER BY created_at", user_id
    )
    return [Hold(**dict(row)) for row in rows]


async def recent_payments(pool: asyncpg.Pool, user_id: int, limit: int = 5) -> list[PaymentRecord]:
    rows = await pool.fetch(
        "SELECT * FROM payments WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2", user_id, limit
    )
    return [PaymentRecord(**dict(row)) for row in rows]
