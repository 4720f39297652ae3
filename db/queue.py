"""The KIE submit queue as users and operators see it: who waits, and an estimate of each one's place.

Temporal dispatches the submits (fairly per user, see workflows/generation.py); this only estimates, from
the ``generations`` rows in stage ``queued``, where one stands under weighted fair dispatch: a user's k-th
queued submit goes after the other users' first k·(their weight / this user's weight) ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

_PLACE = """
WITH q AS (
    -- A workflow terminated by an operator leaves its row behind: bound how long it can count.
    SELECT id, user_id, queue_weight AS w, queued_at FROM generations
    WHERE stage = 'queued' AND finished_at IS NULL AND queued_at > now() - interval '6 hours'
), per AS (
    SELECT user_id, count(*) AS n, max(w) AS w FROM q GROUP BY user_id
), me AS (
    {me}
)
SELECT me.k, me.w,
       (me.k - 1) + coalesce((
           SELECT sum(least(per.n, ceil(me.k * per.w / me.w))) FROM per WHERE per.user_id <> me.user_id
       ), 0) AS ahead,
       (SELECT count(*) FROM q) AS queued,
       coalesce((SELECT n FROM per WHERE per.user_id = me.user_id), 0) AS mine
FROM me
"""
# A queued generation: its rank among its user's queued ones.
_ME_QUEUED = """
    SELECT q.user_id, q.w,
           (SELECT count(*) FROM q q2 WHERE q2.user_id = q.user_id
              AND (q2.queued_at, q2.id) <= (q.queued_at, q.id)) AS k
    FROM q WHERE q.id = $1
"""
# A generation the user is about to confirm: after all of theirs.
_ME_NEW = """
    SELECT $1::bigint AS user_id, $2::real AS w,
           (SELECT count(*) FROM q WHERE q.user_id = $1) + 1 AS k
"""


@dataclass(frozen=True)
class Place:
    ahead: int  # submits expected before this one
    queued: int  # generations waiting in all
    mine: int  # of them this user's (their status messages share one chat)
    rank: int  # 1 for the user's first queued generation, 2 for the next...
    weight: float  # this user's fairness weight
    capacity_per_second: float  # what the active KIE keys allow together

    @property
    def wait_seconds(self) -> float:
        return self.ahead / self.capacity_per_second if self.capacity_per_second else 0.0


class SubmitQueue:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enter(self, generation_id: str, *, weight: float) -> None:
        """The generation waits for a submit slot from now (idempotent: the first time is kept)."""
        await self._pool.execute(
            """
            UPDATE generations SET stage = 'queued', queued_at = coalesce(queued_at, now()),
                   queue_weight = $2, updated_at = now()
            WHERE id = $1 AND finished_at IS NULL
              AND stage IN ('created', 'validating', 'holding', 'preparing')
            """,
            generation_id,
            weight,
        )

    async def place(self, generation_id: str) -> Place | None:
        """Where a queued generation stands; None once it left the queue (submitted, finished)."""
        row = await self._pool.fetchrow(_PLACE.format(me=_ME_QUEUED), generation_id)
        if row is None:
            return None
        return Place(
            int(row["ahead"]),
            int(row["queued"]),
            int(row["mine"]),
            int(row["k"]),
            float(row["w"]),
            await self.capacity_per_second(),
        )

    async def place_for_new(self, user_id: int, *, paid_weight: float) -> Place:
        """Where one more generation of this user would stand if confirmed now."""
        weight = await self.weight(user_id, paid_weight=paid_weight)
        row = await self._pool.fetchrow(_PLACE.format(me=_ME_NEW), user_id, weight)
        assert row is not None
        return Place(
            int(row["ahead"]),
            int(row["queued"]),
            int(row["mine"]),
            int(row["k"]),
            weight,
            await self.capacity_per_second(),
        )

    async def earlier_in_progress(self, generation_id: str, user_id: int) -> int:
        """The user's unfinished generations started before this one (queued, or already at KIE)."""
        return int(
            await self._pool.fetchval(
                """
                SELECT count(*) FROM generations g
                WHERE g.user_id = $2 AND g.finished_at IS NULL AND g.id <> $1
                  AND g.created_at < (SELECT created_at FROM generations WHERE id = $1)
                """,
                generation_id,
                user_id,
            )
        )

    async def weight(self, user_id: int, *, paid_weight: float) -> float:
        """The user's fairness weight: ``paid_weight`` for the paid tier (at least one top-up), else 1."""
        paid = await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE user_id = $1 AND kind = 'topup')", user_id
        )
        return paid_weight if paid else 1.0

    async def capacity_per_second(self) -> float:
        """Submits a second the active KIE keys allow together (0 when none is known yet)."""
        value = await self._pool.fetchval(
            "SELECT coalesce(sum(tasks_per_period / period_seconds), 0) FROM kie_keys "
            "WHERE disabled_at IS NULL AND seen_at > now() - interval '30 days'"
        )
        return float(value)
