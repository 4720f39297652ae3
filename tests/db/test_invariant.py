"""The money invariant holds after a storm of random operations, and the check really detects damage."""

import asyncio
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import asyncpg

from db import Ledger, LedgerError, check_invariant

REPO = Path(__file__).resolve().parents[2]
USERS = list(range(1, 21))
OPERATIONS = 1000
BATCH = 25  # operations started at once; the pool has 25 connections


def _plan(rng: random.Random) -> list[tuple[str, dict]]:
    """A seeded mix of every operation, including replays, key conflicts and refusals."""
    plan: list[tuple[str, dict]] = []
    holds: list[str] = []

    def add(name: str, **args: object) -> None:
        plan.append((name, args))

    for i in range(OPERATIONS):
        user = rng.choice(USERS)
        roll = rng.random()
        if plan and roll < 0.10:
            plan.append(rng.choice(plan))  # exact duplicate: a replay (or the same refusal again)
        elif roll < 0.30:
            kind = rng.choice(["topup", "topup", "bonus", "adjustment", "refund"])
            add("credit", user_id=user, amount=rng.randint(1, 200), key=f"c{i}", kind=kind)
        elif roll < 0.55:
            holds.append(key := f"hold:gen-{user}-{i}")
            add("hold", user_id=user, amount=rng.randint(1, 120), key=key, generation_id=key[5:])
        elif roll < 0.70 and holds:
            add("charge", hold_key=rng.choice(holds), key=f"x{i}")
        elif roll < 0.82 and holds:
            add("release", hold_key=rng.choice(holds), key=f"x{i}")
        elif roll < 0.88 and holds:
            generation = rng.choice(holds)[5:]  # "gen-<user>-<i>"
            owner = int(generation.split("-")[1])
            amount = rng.randint(1, 60)
            add("refund", user_id=owner, amount=amount, key=f"r{i}", reason="bad", generation_id=generation)
        elif roll < 0.95:
            add("debit", user_id=user, amount=rng.randint(1, 150), key=f"d{i}", reason="fix")
        elif roll < 0.98 and plan:
            name, args = rng.choice(plan)  # same key, other amount or hold: a conflict (or unknown hold)
            changed = {"amount": args["amount"] + 1} if "amount" in args else {"hold_key": "hold:unknown"}
            plan.append((name, args | changed))
        else:
            add("credit", user_id=user, amount=rng.choice([0, -5]), key=f"z{i}", kind="topup")
    return plan


async def test_invariant_holds_after_a_thousand_random_operations(ledger: Ledger) -> None:
    for user in USERS:
        await ledger.ensure_user(user)
    plan = _plan(random.Random(20250101))
    outcomes: Counter[str] = Counter()
    expected = {user: [0, 0] for user in USERS}  # balance, held: rebuilt from what the calls returned
    for start in range(0, len(plan), BATCH):
        batch = plan[start : start + BATCH]
        results = await asyncio.gather(
            *(getattr(ledger, name)(**args) for name, args in batch), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                assert isinstance(result, LedgerError), repr(result)  # no database error leaks out
                outcomes[type(result).__name__] += 1
                continue
            outcomes["replayed" if result.replayed else "applied"] += 1
            if not result.replayed:
                balance_delta, held_delta = {
                    "hold": (0, 1),
                    "charge": (-1, -1),
                    "release": (0, -1),
                    "debit": (-1, 0),
                }.get(result.kind, (1, 0))
                expected[result.user_id][0] += balance_delta * result.amount
                expected[result.user_id][1] += held_delta * result.amount
        assert await check_invariant(ledger._pool) == []

    # The storm really exercised every path.
    for outcome in (
        "applied",
        "replayed",
        "InsufficientCredits",
        "HoldClosed",
        "IdempotencyConflict",
        "InvalidAmount",
        "RefundExceedsCharge",
        "UnknownHold",
    ):
        assert outcomes[outcome] > 0, outcomes
    assert sum(outcomes.values()) == OPERATIONS
    for user in USERS:
        balance = await ledger.balance(user)
        assert [balance.balance, balance.held] == expected[user]
        assert balance.available >= 0


async def test_the_check_detects_a_corrupted_balance(ledger: Ledger) -> None:
    await ledger.ensure_user(1)
    await ledger.ensure_user(2)
    await ledger.credit(1, 100, key="c1", kind="topup")
    await ledger.credit(2, 100, key="c2", kind="topup")
    assert await check_invariant(ledger._pool) == []
    await ledger._pool.execute("UPDATE accounts SET balance = balance + 1 WHERE user_id = 2")
    [violation] = await check_invariant(ledger._pool)
    assert (violation.user_id, violation.balance, violation.expected_balance) == (2, 101, 100)
    assert violation.problems == ["balance differs from credits minus charges"]
    assert "user 2: balance 101 (ledger says 100)" in str(violation)


async def test_the_check_detects_corrupted_holds(ledger: Ledger) -> None:
    await ledger.ensure_user(1)
    await ledger.credit(1, 100, key="c1", kind="topup")
    await ledger.hold(1, 30, key="h1")
    await ledger._pool.execute("UPDATE accounts SET held = 20 WHERE user_id = 1")
    [violation] = await check_invariant(ledger._pool)
    assert (violation.held, violation.expected_held, violation.open_holds) == (20, 30, 30)
    assert len(violation.problems) == 2
    await ledger._pool.execute("UPDATE accounts SET held = 30 WHERE user_id = 1")
    assert await check_invariant(ledger._pool) == []
    # A hold closed behind the ledger's back (no charge entry) is caught too.
    await ledger._pool.execute("UPDATE holds SET state = 'released', closed_by = 'x', closed_at = now()")
    [violation] = await check_invariant(ledger._pool)
    assert violation.problems == ["held differs from the sum of open holds"]


async def test_the_check_works_on_a_single_connection(ledger: Ledger, migrated_database_url: str) -> None:
    conn = await asyncpg.connect(migrated_database_url)
    try:
        assert await check_invariant(conn) == []
    finally:
        await conn.close()


async def test_invariant_command_line(ledger: Ledger, migrated_database_url: str) -> None:
    await ledger.ensure_user(3)
    await ledger.credit(3, 10, key="c", kind="bonus")
    env = {**os.environ, "DATABASE_URL": migrated_database_url}
    command = [sys.executable, "-m", "db.invariant"]

    async def run() -> subprocess.CompletedProcess:
        return await asyncio.to_thread(
            subprocess.run, command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )

    ok = await run()
    assert (ok.returncode, ok.stdout) == (0, "ok\n"), ok.stderr
    await ledger._pool.execute("UPDATE accounts SET balance = 0 WHERE user_id = 3")
    broken = await run()
    assert broken.returncode == 1
    assert "user 3: balance 0 (ledger says 10)" in broken.stdout
