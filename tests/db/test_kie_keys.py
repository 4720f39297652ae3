"""KieKeys: every key stays under KIE's sliding-window limit whatever the concurrency, submits spread over
the keys, and a refused key leaves the rotation for every worker (but never the last one)."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from db import KieKeys


async def test_slots_never_exceed_the_limit_per_window_and_spread_over_keys(db_pool: asyncpg.Pool) -> None:
    keys = KieKeys(db_pool)
    await keys.register(["k1", "k2"], tasks_per_period=3, period_seconds=1.0)
    taken: list[tuple[str, float]] = []

    async def submit(i: int) -> None:
        while True:  # like the activity: wait while every key is at its limit
            slot = await keys.take_slot(["k1", "k2"], margin_seconds=0.05, generation_id=f"g{i}")
            if slot.key_id is not None:
                taken.append((slot.key_id, time.monotonic()))
                return
            assert slot.active_keys == 2 and 0 < slot.wait_seconds <= 1.05
            await asyncio.sleep(slot.wait_seconds)

    started = time.monotonic()
    await asyncio.gather(*(submit(i) for i in range(15)))  # 2.5 windows' worth for two keys
    # The slots' own times, as the database recorded them inside each transaction (a client's clock after
    # the answer would add its own scheduling delays).
    rows = await db_pool.fetch(
        "SELECT key_id, extract(epoch FROM taken_at) AS at FROM kie_key_slots WHERE key_id = ANY ($1)",
        ["k1", "k2"],
    )
    by_key = {k: sorted(float(r["at"]) for r in rows if r["key_id"] == k) for k in ("k1", "k2")}
    assert sorted(len(v) for v in by_key.values()) in ([7, 8], [8, 7])  # spread, not one key first
    assert sorted(k for k, _ in taken) == sorted(r["key_id"] for r in rows)
    for times in by_key.values():
        for i in range(len(times) - 3):
            assert times[i + 3] - times[i] >= 1.0, times  # never a 4th within one window
    assert time.monotonic() - started >= 2.0  # 15 slots at 6 a second need two more windows


async def test_a_refused_key_leaves_the_rotation_once_but_the_last_key_stays(db_pool: asyncpg.Pool) -> None:
    keys = KieKeys(db_pool)
    await keys.register(["a", "b"], tasks_per_period=20, period_seconds=10)
    assert await keys.disable("a", "401: revoked", among=["a", "b"]) is True
    assert await keys.disable("a", "401: revoked", among=["a", "b"]) is False  # alerted once
    assert await keys.active(["a", "b"]) == ["b"]
    assert await keys.disable("b", "402: no credits", among=["a", "b"]) is False  # nothing else could serve
    for _ in range(5):
        slot = await keys.take_slot(["a", "b"], margin_seconds=0, generation_id="g")
        assert slot.key_id == "b"
    states = {s.key_id: s for s in await keys.states()}
    assert states["a"].disabled_reason == "401: revoked" and states["b"].slots_in_window == 5
    # A restart registers the keys again: the disabled one stays out until the credits check restores it.
    await keys.register(["a", "b"], tasks_per_period=20, period_seconds=10)
    assert await keys.active() == ["b"]
    assert await keys.enable("a") is True and await keys.active() == ["a", "b"]


async def test_no_slot_without_an_active_key(db_pool: asyncpg.Pool) -> None:
    keys = KieKeys(db_pool)
    slot = await keys.take_slot(["never-registered"], margin_seconds=0, generation_id="g")
    assert (slot.key_id, slot.active_keys) == (None, 0)
