"""Many calls at once, over a pool of 25 connections: each key applies once, money never overdraws."""

import asyncio
import datetime as dt

import pytest

from db import Balance, HoldClosed, IdempotencyConflict, InsufficientCredits, Ledger, check_invariant

USER = 7
N = 50


@pytest.fixture
async def funded(ledger: Ledger) -> int:
    await ledger.ensure_user(USER)
    await ledger.credit(USER, 1000, key="seed", kind="topup")
    return USER


async def _count(ledger: Ledger, sql: str, *args) -> int:
    return await ledger._pool.fetchval(sql, *args)


async def test_fifty_concurrent_credits_with_one_key_apply_once(ledger: Ledger, funded: int) -> None:
    results = await asyncio.gather(*(ledger.credit(funded, 25, key="dup", kind="topup") for _ in range(N)))
    assert sum(not m.replayed for m in results) == 1
    assert len({m.model_dump_json(exclude={"replayed"}) for m in results}) == 1
    assert await ledger.balance(funded) == Balance(balance=1025, held=0, available=1025)
    assert await _count(ledger, "SELECT count(*) FROM ledger_entries WHERE idempotency_key = 'dup'") == 1


async def test_fifty_concurrent_holds_with_one_key_apply_once(ledger: Ledger, funded: int) -> None:
    results = await asyncio.gather(*(ledger.hold(funded, 40, key="hold:gen-7-a") for _ in range(N)))
    assert sum(not m.replayed for m in results) == 1
    assert await ledger.balance(funded) == Balance(balance=1000, held=40, available=960)
    assert await _count(ledger, "SELECT count(*) FROM holds") == 1


async def test_fifty_concurrent_charges_with_one_key_apply_once(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 40, key="h")
    results = await asyncio.gather(*(ledger.charge(hold_key="h", key="charge:h") for _ in range(N)))
    assert sum(not m.replayed for m in results) == 1
    assert await ledger.balance(funded) == Balance(balance=960, held=0, available=960)


async def test_racing_charges_and_releases_close_a_hold_exactly_once(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 40, key="h")
    calls = []
    for i in range(N // 2):
        calls.append(ledger.charge(hold_key="h", key=f"charge:{i}"))
        calls.append(ledger.release(hold_key="h", key=f"release:{i}"))
    results = await asyncio.gather(*calls, return_exceptions=True)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, HoldClosed) for r in results if r is not winners[0])
    expected = 960 if winners[0].kind == "charge" else 1000
    assert await ledger.balance(funded) == Balance(balance=expected, held=0, available=expected)
    assert await check_invariant(ledger._pool) == []


async def test_concurrent_holds_never_overdraw(ledger: Ledger, funded: int) -> None:
    # 50 holds of 30 against 1000 available: exactly 33 fit.
    results = await asyncio.gather(
        *(ledger.hold(funded, 30, key=f"h{i}") for i in range(N)), return_exceptions=True
    )
    held = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(held), len(refused)) == (33, 17)
    assert await ledger.balance(funded) == Balance(balance=1000, held=990, available=10)


async def test_concurrent_debits_never_overdraw(ledger: Ledger, funded: int) -> None:
    results = await asyncio.gather(
        *(ledger.debit(funded, 300, key=f"d{i}", reason="x") for i in range(N)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 3
    assert (await ledger.balance(funded)).balance == 100


async def test_one_key_raced_by_different_users_applies_once(ledger: Ledger) -> None:
    users = range(100, 120)
    for user in users:
        await ledger.ensure_user(user)
    results = await asyncio.gather(
        *(ledger.credit(user, 10, key="shared", kind="bonus") for user in users), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, IdempotencyConflict) for r in results if r is not winners[0])
    assert await _count(ledger, "SELECT sum(balance) FROM accounts") == 10


async def test_free_allowance_race_grants_the_last_one_once(ledger: Ledger) -> None:
    await ledger.ensure_user(USER)
    today = dt.date(2025, 1, 1)
    answers = await asyncio.gather(
        *(ledger.free.consume(USER, day=today, limit=1, key=f"free:{i}") for i in range(20))
    )
    assert answers.count(True) == 1
    assert await ledger.free.used(USER, day=today) == 1


async def test_free_allowance_same_key_in_parallel_consumes_once(ledger: Ledger) -> None:
    await ledger.ensure_user(USER)
    today = dt.date(2025, 1, 1)
    answers = await asyncio.gather(
        *(ledger.free.consume(USER, day=today, limit=3, key="free:same") for _ in range(20))
    )
    assert answers == [True] * 20
    assert await ledger.free.used(USER, day=today) == 1
    returns = await asyncio.gather(*(ledger.free.give_back(key="free:same") for _ in range(20)))
    assert returns == [True] * 20
    assert await ledger.free.used(USER, day=today) == 0
