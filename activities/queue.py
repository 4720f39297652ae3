"""The KIE submit queue seen from a generation: join it, and where it stands (for its status message).

The place is an estimate (Temporal's fair dispatch decides the real order). How often a queued generation
looks again is set here, so that all queued status messages together stay within a share of Telegram's
bot-wide limit: with Q queued and E edits a second allowed, each looks every max(min, Q / E) seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from db import Place, SubmitQueue
from workflows.models import QueueInput, QueuePlace


@dataclass(frozen=True)
class QueuePolicy:
    paid_weight: float = 2.0
    min_refresh_seconds: float = 5.0
    edits_per_second: float = 10.0
    max_refresh_seconds: float = 120.0


def fairness_key(user_id: int) -> str:
    """Temporal's fairness key of a user's submits (the user id is already in the workflow id)."""
    return f"user-{user_id}"


class QueueActivities:
    def __init__(self, queue: SubmitQueue, policy: QueuePolicy) -> None:
        self.queue = queue
        self.policy = policy

    async def join(self, generation_id: str, user_id: int) -> QueuePlace:
        """Enter the queue (idempotent) and return the place, with the fairness key and weight to use."""
        weight = await self.queue.weight(user_id, paid_weight=self.policy.paid_weight)
        await self.queue.enter(generation_id, weight=weight)
        place = await self.queue.place(generation_id)
        return self._view(place, user_id, weight)

    @activity.defn
    async def join_queue(self, data: QueueInput) -> QueuePlace:
        """After its media is uploaded, a generation joins the queue (one without media joins on hold)."""
        return await self.join(data.generation_id, data.user_id)

    @activity.defn
    async def queue_place(self, data: QueueInput) -> QueuePlace:
        """Where a queued generation stands now; ahead = 0 once it left the queue."""
        place = await self.queue.place(data.generation_id)
        if place is None:
            return QueuePlace(fairness_key=fairness_key(data.user_id))
        return self._view(place, data.user_id, place.weight)

    def _view(self, place: Place | None, user_id: int, weight: float) -> QueuePlace:
        key = fairness_key(user_id)
        if place is None:
            return QueuePlace(fairness_key=key, fairness_weight=weight)
        p = self.policy
        refresh = min(p.max_refresh_seconds, max(p.min_refresh_seconds, place.queued / p.edits_per_second))
        return QueuePlace(
            ahead=place.ahead,
            queued=place.queued,
            wait_seconds=round(place.wait_seconds, 1),
            refresh_seconds=refresh,
            fairness_key=key,
            fairness_weight=weight,
        )
