"""The KIE submit queue seen from a generation: join it, and where it stands (for its status message).

The place is an estimate (Temporal's fair dispatch decides the real order). How often a queued generation
looks again is set here, so that all queued status messages together stay within a share of Telegram's
bot-wide limit, and one user's within the per-chat limit: with Q queued, M of them this user's, E edits a
second allowed in all and C per chat, each looks every max(min, Q / E, M / C) seconds (at most ``max``).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import activities as contract
from contracts.activities import implements
from contracts.models import QueueInput, QueuePlace
from db import Place, SubmitQueue


@dataclass(frozen=True)
class QueuePolicy:
    paid_weight: float = 2.0
    min_refresh_seconds: float = 5.0
    edits_per_second: float = 10.0
    # Telegram allows about 1 message a second into one chat: the first notices and the refreshes of one
    # user's queued generations each get 0.4 of it.
    chat_edits_per_second: float = 0.4
    max_refresh_seconds: float = 300.0


# Temporal's priority (1 highest, 3 the default) for a user's only generation in progress: least served first,
# as an ideal fair scheduler would; newcomers to a surge do not wait a whole round of everyone's repeats.
FIRST_IN_QUEUE = 2


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
        view = self._view(place, user_id, weight)
        # Least served first: the user's only generation in progress jumps ahead of everyone's repeats.
        if place is not None and not await self.queue.earlier_in_progress(generation_id, user_id):
            view.priority_key = FIRST_IN_QUEUE
        return view

    @implements(contract.join_queue)
    async def join_queue(self, data: QueueInput) -> QueuePlace:
        """After its media is uploaded, a generation joins the queue (one without media joins on hold)."""
        return await self.join(data.generation_id, data.user_id)

    @implements(contract.queue_place)
    async def queue_place(self, data: QueueInput) -> QueuePlace:
        """Where a queued generation stands now; ahead = 0 once it left the queue."""
        place = await self.queue.place(data.generation_id)
        return self._view(place, data.user_id, place.weight if place else 1.0)

    def _view(self, place: Place | None, user_id: int, weight: float) -> QueuePlace:
        key = fairness_key(user_id)
        if place is None:
            return QueuePlace(fairness_key=key, fairness_weight=weight)
        p = self.policy
        spread = max(place.queued / p.edits_per_second, place.mine / p.chat_edits_per_second)
        refresh = min(p.max_refresh_seconds, max(p.min_refresh_seconds, spread))
        return QueuePlace(
            ahead=place.ahead,
            queued=place.queued,
            wait_seconds=round(place.wait_seconds, 1),
            refresh_seconds=refresh,
            # Their status messages share one chat: the user's k-th queued one first says so after the others.
            first_notice_seconds=(place.rank - 1) / p.chat_edits_per_second,
            fairness_key=key,
            fairness_weight=weight,
        )
