import datetime as dt

import asyncpg
import pytest

from db import IdempotencyConflict, InvalidArgument, Ledger, UnknownUser

USER = 11
DAY = dt.date(2025, 3, 1)


@pytest.fixture
async def user(ledger: Ledger) -> int:
    await ledger.ensure_user(USER)
    return USER


async def test_consume_up_to_the_limit(ledger: Ledger, user: int) -> None:
    answers = [await ledger.free.consume(user, day=DAY, limit=2, key=f"free:{i}") for i in range(3)]
    assert answers == [True, True, False]
    assert await ledger.free.used(user, day=DAY) == 2
    # Another day has its own allowance.
    assert await ledger.free.consume(user, day=DAY + dt.timedelta(days=1), limit=2, key="free:next-day")
    assert await ledger.free.used(user, day=DAY + dt.timedelta(days=1)) == 1


async def test_replay_returns_the_first_answer(ledger: Ledger, user: int) -> None:
    assert await ledger.free.consume(user, day=DAY, limit=1, key="a")
    assert await ledger.free.consume(user, day=DAY, limit=1, key="a")
    assert not await ledger.free.consume(user, day=DAY, limit=1, key="b")
    await ledger.free.give_back(key="a")  # one is free again, but "b" was answered already
    assert not await ledger.free.consume(user, day=DAY, limit=1, key="b")
    assert await ledger.free.used(user, day=DAY) == 0


async def test_return_is_idempotent(ledger: Ledger, user: int) -> None:
    assert await ledger.free.consume(user, day=DAY, limit=1, key="a")
    assert await ledger.free.give_back(key="a")
    assert await ledger.free.give_back(key="a")
    assert await ledger.free.used(user, day=DAY) == 0
    assert await ledger.free.consume(user, day=DAY, limit=1, key="b")  # the returned one is usable
    assert await ledger.free.used(user, day=DAY) == 1


async def test_returning_nothing(ledger: Ledger, user: int) -> None:
    assert not await ledger.free.give_back(key="never-consumed")
    assert not await ledger.free.consume(user, day=DAY, limit=0, key="refused")
    assert not await ledger.free.give_back(key="refused")
    assert await ledger.free.used(user, day=DAY) == 0


async def test_bad_calls(ledger: Ledger, user: int) -> None:
    await ledger.free.consume(user, day=DAY, limit=1, key="a")
    with pytest.raises(IdempotencyConflict):
        await ledger.free.consume(user, day=DAY + dt.timedelta(days=1), limit=1, key="a")
    with pytest.raises(InvalidArgument):
        await ledger.free.consume(user, day=DAY, limit=-1, key="c")
    with pytest.raises(UnknownUser):
        await ledger.free.consume(999, day=DAY, limit=1, key="d")


async def test_usage_cannot_go_negative(ledger: Ledger, user: int) -> None:
    await ledger.free.consume(user, day=DAY, limit=1, key="a")
    with pytest.raises(asyncpg.CheckViolationError):
        await ledger._pool.execute("UPDATE daily_free_usage SET used = used - 2")
