"""PgStorage (aiogram FSM on PostgreSQL) and BotStore, directly on a freshly migrated database."""

from __future__ import annotations

import asyncio

import asyncpg
from aiogram.fsm.storage.base import StorageKey

from bot.states import FormStates
from bot.storage import BotStore, PgStorage
from db import create_pool

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


async def test_state_and_data_round_trip(db_pool: asyncpg.Pool):
    storage = PgStorage(db_pool)
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}
    await storage.set_state(KEY, FormStates.asking)
    assert await storage.get_state(KEY) == "FormStates:asking"
    await storage.set_data(KEY, {"form": {"values": {"prompt": "кот", "n": 2.5, "ok": True}}})
    assert await storage.get_data(KEY) == {"form": {"values": {"prompt": "кот", "n": 2.5, "ok": True}}}
    assert await storage.update_data(KEY, {"lang": "ru"}) == {
        "form": {"values": {"prompt": "кот", "n": 2.5, "ok": True}},
        "lang": "ru",
    }
    assert await storage.get_value(KEY, "lang") == "ru"
    assert await storage.get_state(KEY) == "FormStates:asking"  # data writes leave the state alone
    await storage.set_state(KEY, "other")
    assert (await storage.get_data(KEY))["lang"] == "ru"  # and state writes the data


async def test_a_cleared_conversation_leaves_no_row(db_pool: asyncpg.Pool):
    storage = PgStorage(db_pool)
    await storage.set_state(KEY, FormStates.overview)
    await storage.set_data(KEY, {"a": 1})
    await storage.set_state(KEY, None)
    assert await db_pool.fetchval("SELECT count(*) FROM bot_fsm") == 1  # the data is still there
    await storage.set_data(KEY, {})
    assert await db_pool.fetchval("SELECT count(*) FROM bot_fsm") == 0


async def test_every_key_part_counts(db_pool: asyncpg.Pool):
    storage = PgStorage(db_pool)
    keys = [
        KEY,
        StorageKey(bot_id=2, chat_id=42, user_id=42),
        StorageKey(bot_id=1, chat_id=43, user_id=42),
        StorageKey(bot_id=1, chat_id=42, user_id=42, thread_id=7),
        StorageKey(bot_id=1, chat_id=42, user_id=42, business_connection_id="bc"),
        StorageKey(bot_id=1, chat_id=42, user_id=42, destiny="other"),
    ]
    for index, key in enumerate(keys):
        await storage.set_data(key, {"i": index})
    assert [await storage.get_data(key) for key in keys] == [{"i": i} for i in range(len(keys))]


async def test_a_restarted_bot_continues_where_the_last_one_stopped(migrated_database_url: str):
    first_pool = await create_pool(migrated_database_url)
    await PgStorage(first_pool).set_state(KEY, FormStates.confirm)
    await PgStorage(first_pool).update_data(KEY, {"form": {"key": "abc"}})
    await first_pool.close()  # the process is gone

    second_pool = await create_pool(migrated_database_url)
    try:
        storage = PgStorage(second_pool)
        assert await storage.get_state(KEY) == "FormStates:confirm"
        assert await storage.get_data(KEY) == {"form": {"key": "abc"}}
    finally:
        await second_pool.close()


async def test_concurrent_replicas_lose_no_update(migrated_database_url: str):
    pools = [await create_pool(migrated_database_url, max_size=10) for _ in range(2)]
    try:
        replicas = [PgStorage(pool) for pool in pools]
        await asyncio.gather(
            *(replicas[i % 2].update_data(KEY, {f"k{i}": i}) for i in range(60)),
            *(replicas[i % 2].set_state(KEY, f"s{i}") for i in range(10)),
        )
        data = await replicas[0].get_data(KEY)
        assert data == {f"k{i}": i for i in range(60)}
        assert await replicas[1].get_state(KEY) in {f"s{i}" for i in range(10)}
    finally:
        for pool in pools:
            await pool.close()


async def test_a_confirmation_is_claimed_once(db_pool: asyncpg.Pool):
    stores = [BotStore(db_pool) for _ in range(2)]
    request = {"user_id": 7, "request_key": "k1", "model_id": "google/nano-banana", "inputs": {"prompt": "x"}}
    claims = await asyncio.gather(
        *(stores[i % 2].claim_request(7, "k1", "gen-7-k1", request) for i in range(10))
    )
    assert claims.count(True) == 1
    started = await stores[0].started_request(7, "k1")
    assert started is not None and started.request == request and started.status_message_id is None
    await stores[1].set_status_message(7, "k1", 55)
    assert (await stores[0].started_request(7, "k1")).status_message_id == 55
    assert await stores[0].started_request(7, "other") is None


async def test_the_first_deep_link_payload_is_kept(db_pool: asyncpg.Pool):
    store = BotStore(db_pool)
    assert await store.start_payload(9) is None
    assert await store.remember_start_payload(9, "ref_abc") is True
    assert await store.remember_start_payload(9, "ref_xyz") is False
    assert await store.start_payload(9) == "ref_abc"
