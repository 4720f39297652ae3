"""SubmitQueue: the estimate of a queued generation's place under weighted fair dispatch."""

from __future__ import annotations

import asyncpg

from db import Generations, KieKeys, Ledger, SubmitQueue


async def _queued(generations: Generations, queue: SubmitQueue, gid: str, user_id: int, weight: float = 1.0):
    await generations.create(
        gid,
        user_id,
        chat_id=user_id,
        model_id="m",
        format="image",
        inputs={},
        price=1,
        free=False,
        language="en",
    )
    await queue.enter(gid, weight=weight)


async def test_a_light_users_first_request_is_not_behind_a_heavy_users_burst(
    db_pool: asyncpg.Pool, generations: Generations
) -> None:
    queue = SubmitQueue(db_pool)
    await KieKeys(db_pool).register(["k"], tasks_per_period=20, period_seconds=10)  # 2 a second
    for i in range(30):
        await _queued(generations, queue, f"gen-1-{i}", 1)  # the heavy user, first
    await _queued(generations, queue, "gen-2-a", 2)
    await _queued(generations, queue, "gen-2-b", 2)
    light_first = await queue.place("gen-2-a")
    assert light_first is not None and (light_first.ahead, light_first.queued) == (1, 32)
    assert light_first.wait_seconds == 0.5 and light_first.capacity_per_second == 2.0
    second = await queue.place("gen-2-b")
    assert second is not None and second.ahead == 3  # its own first, and two rounds of the heavy user
    heavy_last = await queue.place("gen-1-29")
    assert heavy_last is not None and heavy_last.ahead == 31
    new = await queue.place_for_new(2, paid_weight=2.0)
    assert new.ahead == 2 + 3  # after both of theirs, beside three of the heavy user's


async def test_weights_leaving_and_the_paid_tier(
    db_pool: asyncpg.Pool, generations: Generations, ledger: Ledger
) -> None:
    queue = SubmitQueue(db_pool)
    await KieKeys(db_pool).register(["k"], tasks_per_period=20, period_seconds=10)
    for i in range(10):
        await _queued(generations, queue, f"gen-1-{i}", 1)
    await _queued(generations, queue, "gen-3-a", 3, weight=2.0)
    await _queued(generations, queue, "gen-3-b", 3, weight=2.0)
    # Weight 2 against 1: the paid user's 2nd goes after only one of the other user's.
    second = await queue.place("gen-3-b")
    assert second is not None and second.ahead == 1 + 1
    await generations.set_stage("gen-3-a", "submitting")  # dispatched: out of the queue
    assert await queue.place("gen-3-a") is None
    await queue.enter("gen-3-a", weight=2.0)  # a retried step does not put it back
    assert await queue.place("gen-3-a") is None
    assert await queue.weight(4, paid_weight=2.0) == 1.0
    await ledger.ensure_user(4)
    await ledger.credit(4, 100, key="topup:4", kind="topup", reason="stars")
    assert await queue.weight(4, paid_weight=2.0) == 2.0


async def test_earlier_in_progress_counts_the_users_unfinished_generations(
    db_pool: asyncpg.Pool, generations: Generations
) -> None:
    queue = SubmitQueue(db_pool)
    await _queued(generations, queue, "gen-7-a", 7)
    await _queued(generations, queue, "gen-7-b", 7)
    assert await queue.earlier_in_progress("gen-7-a", 7) == 0
    assert await queue.earlier_in_progress("gen-7-b", 7) == 1
    await generations.set_stage("gen-7-a", "waiting_kie")  # at KIE: still in progress, still counts
    assert await queue.earlier_in_progress("gen-7-b", 7) == 1
    await generations.finish("gen-7-a", "succeeded")
    assert await queue.earlier_in_progress("gen-7-b", 7) == 0
