"""BotUpdates: one claim per Telegram update across replicas; a handled update is never handled again, one in
progress elsewhere is left alone until its claim expires, and a released claim can be taken afresh."""

from __future__ import annotations

import datetime as dt
import random

import asyncpg

from db import BotUpdates, Claim

BOT = 123456789


def fresh_update_id() -> int:
    return random.randint(10**9, 2 * 10**9)


async def test_one_replica_handles_an_update_and_later_deliveries_see_it_done(db_pool: asyncpg.Pool) -> None:
    first, second = BotUpdates(db_pool), BotUpdates(db_pool)  # two replicas
    update = fresh_update_id()
    assert await first.claim(BOT, update) is Claim.MINE
    assert await second.claim(BOT, update) is Claim.BUSY  # the first is still at it
    await first.done(BOT, update)
    assert await second.claim(BOT, update) is Claim.DONE
    assert await first.claim(BOT, update) is Claim.DONE
    row = await db_pool.fetchrow(
        "SELECT claims, duplicates, finishes FROM bot_updates WHERE update_id = $1", update
    )
    assert (row["claims"], row["duplicates"], row["finishes"]) == (1, 2, 1)
    # Update ids count per bot: another bot's update of the same number is its own.
    assert await second.claim(BOT + 1, update) is Claim.MINE


async def test_a_released_claim_is_taken_by_the_next_delivery(db_pool: asyncpg.Pool) -> None:
    updates = BotUpdates(db_pool)
    update = fresh_update_id()
    assert await updates.claim(BOT, update) is Claim.MINE
    await updates.release(BOT, update)  # a transient failure: answered 500
    assert await updates.claim(BOT, update) is Claim.MINE
    await updates.done(BOT, update)
    await updates.release(BOT, update)  # a release after done changes nothing
    assert await updates.claim(BOT, update) is Claim.DONE


async def test_a_claim_left_by_a_dead_replica_expires(db_pool: asyncpg.Pool) -> None:
    dead, alive = BotUpdates(db_pool), BotUpdates(db_pool, lease=dt.timedelta(seconds=30))
    update = fresh_update_id()
    assert await dead.claim(BOT, update) is Claim.MINE
    assert await alive.claim(BOT, update) is Claim.BUSY
    await db_pool.execute(
        "UPDATE bot_updates SET claimed_at = now() - interval '31 seconds' WHERE update_id = $1", update
    )
    assert await alive.claim(BOT, update) is Claim.MINE
    claims = await db_pool.fetchval("SELECT claims FROM bot_updates WHERE update_id = $1", update)
    assert claims == 2
    # Had the first replica been alive after all, both would finish: counted, so a check can see it.
    await alive.done(BOT, update)
    await dead.done(BOT, update)
    finishes = await db_pool.fetchval("SELECT finishes FROM bot_updates WHERE update_id = $1", update)
    assert finishes == 2


async def test_claims_older_than_a_day_are_forgotten(db_pool: asyncpg.Pool) -> None:
    updates = BotUpdates(db_pool)
    old, recent = fresh_update_id(), fresh_update_id()
    for update in (old, recent):
        assert await updates.claim(BOT, update) is Claim.MINE
        await updates.done(BOT, update)
    await db_pool.execute(
        "UPDATE bot_updates SET claimed_at = now() - interval '25 hours' WHERE update_id = $1", old
    )
    assert await updates.forget_old() >= 1
    left = await db_pool.fetch("SELECT update_id FROM bot_updates WHERE update_id = ANY($1)", [old, recent])
    assert [r["update_id"] for r in left] == [recent]
