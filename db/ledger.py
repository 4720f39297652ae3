"""The credit ledger: every operation is ONE transaction, idempotent by its key.

How each money operation stays correct under retries and concurrency:

1. lock the user's ``accounts`` row (``SELECT ... FOR UPDATE``): operations of one user run one at a time;
2. look the key up in ``ledger_entries``: if it is there, this is a replay -> return the first result
   (``replayed=True``), or raise ``IdempotencyConflict`` if the call asks for something else
   (other user, kind, amount or hold). Reason and metadata are descriptive and not compared;
3. validate (funds, hold state, ...) -- a refusal raises and rolls back, so it is NOT recorded under the
   key and a retry (e.g. after a top-up) can succeed;
4. change the account and ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING`` the entry. Nothing
   inserted means another user's operation took the key meanwhile: roll back, answer as in 2.

The CHECK constraints on ``accounts`` (balance >= held >= 0) are the last line: even a wrong caller
cannot overdraw. The pool must set the jsonb codec (``db.pool.create_pool`` does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import asyncpg

from db.entries import (
    CREDIT_KINDS,
    ENTRY_COLUMNS,
    Balance,
    CreditKind,
    Hold,
    Intent,
    KeyTaken,
    Movement,
    User,
    append,
    check_amount,
    check_key,
    find_entry,
    lock_account,
    movement_of,
    replay,
    require_available,
)
from db.errors import (
    HoldClosed,
    IdempotencyConflict,
    InvalidArgument,
    RefundExceedsCharge,
    UnknownHold,
    UnknownUser,
)
from db.free_usage import FreeAllowance


class Ledger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.free = FreeAllowance(pool)

    # ---------------------------------------------------------------- users and reads

    async def ensure_user(self, user_id: int, *, language: str | None = None) -> User:
        """Create the user and their account if absent; set ``language`` only when given."""
        async with self._pool.acquire() as conn, conn.transaction():
            # ON CONFLICT ... WHERE: no row version is written when nothing changes.
            row = await conn.fetchrow(
                """
                INSERT INTO users AS u (id, language) VALUES ($1, $2)
                ON CONFLICT (id) DO UPDATE SET language = EXCLUDED.language
                    WHERE EXCLUDED.language IS NOT NULL AND u.language IS DISTINCT FROM EXCLUDED.language
                RETURNING *
                """,
                user_id,
                language,
            )
            if row is None:
                row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
            await conn.execute("INSERT INTO accounts (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id)
        return User(**dict(row))

    async def get_user(self, user_id: int) -> User | None:
        row = await self._pool.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        return None if row is None else User(**dict(row))

    async def balance(self, user_id: int) -> Balance:
        row = await self._pool.fetchrow("SELECT balance, held FROM accounts WHERE user_id = $1", user_id)
        if row is None:
            raise UnknownUser(user_id)
        return Balance(balance=row["balance"], held=row["held"], available=row["balance"] - row["held"])

    async def recent_movements(self, user_id: int, limit: int = 10) -> list[Movement]:
        """Newest first."""
        rows = await self._pool.fetch(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            user_id,
            limit,
        )
        if not rows and not await self._pool.fetchval("SELECT 1 FROM accounts WHERE user_id = $1", user_id):
            raise UnknownUser(user_id)
        return [movement_of(row) for row in rows]

    async def get_hold(self, hold_key: str) -> Hold | None:
        row = await self._pool.fetchrow("SELECT * FROM holds WHERE hold_key = $1", hold_key)
        return None if row is None else Hold(**dict(row))

    # ---------------------------------------------------------------- money in

    async def credit(
        self,
        user_id: int,
        amount: int,
        *,
        key: str,
        kind: CreditKind,
        reason: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Movement:
        check_amount(amount)
        check_key(key)
        if kind not in CREDIT_KINDS:
            raise InvalidArgument(f"credit kind must be one of {sorted(CREDIT_KINDS)}, got {kind!r}")
        intent = Intent(user_id, kind, amount)

        async def body(conn: asyncpg.Connection) -> Movement:
            await lock_account(conn, user_id)
            if (row := await find_entry(conn, key)) is not None:
                return replay(row, intent)
            return await append(conn, key, intent, balance_delta=amount, reason=reason, metadata=metadata)

        return await self._run(body)

    async def refund(
        self,
        user_id: int,
        amount: int,
        *,
        key: str,
        reason: str,
        generation_id: str | None = None,
    ) -> Movement:
        """Credit back (kind ``refund``). With ``generation_id``, never more than was charged for it."""
        check_amount(amount)
        check_key(key)
        intent = Intent(user_id, "refund", amount)

        async def body(conn: asyncpg.Connection) -> Movement:
            await lock_account(conn, user_id)
            if (row := await find_entry(conn, key)) is not None:
                return replay(row, intent)
            if generation_id is not None:
                refundable = await conn.fetchval(
                    """
                    SELECT coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0)
                         - coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)
                    FROM ledger_entries WHERE user_id = $1 AND generation_id = $2
                    """,
                    user_id,
                    generation_id,
                )
                if amount > refundable:
                    raise RefundExceedsCharge(generation_id, refundable, amount)
            return await append(
                conn, key, intent, balance_delta=amount, reason=reason, generation_id=generation_id
            )

        return await self._run(body)

    async def record_payment(
        self,
        user_id: int,
        *,
        telegram_payment_charge_id: str,
        stars: int,
        credits: int,
        payload: str = "",
    ) -> Movement:
        """A successful Telegram Stars payment: the ``payments`` row and its top-up, keyed
        ``topup:<telegram_payment_charge_id>``, in one transaction."""
        check_key(telegram_payment_charge_id, "telegram_payment_charge_id")
        check_amount(stars, "stars")
        check_amount(credits, "credits")
        key = f"topup:{telegram_payment_charge_id}"
        intent = Intent(user_id, "topup", credits)

        async def body(conn: asyncpg.Connection) -> Movement:
            await lock_account(conn, user_id)
            if (row := await find_entry(conn, key)) is not None:
                return replay(row, intent)
            inserted = await conn.fetchval(
                """
                INSERT INTO payments (telegram_payment_charge_id, user_id, stars, credits, payload)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT DO NOTHING RETURNING true
                """,
                telegram_payment_charge_id,
                user_id,
                stars,
                credits,
                payload,
            )
            if not inserted:
                raise KeyTaken(key, intent)
            return await append(
                conn,
                key,
                intent,
                balance_delta=credits,
                reason="Telegram Stars payment",
                metadata={"telegram_payment_charge_id": telegram_payment_charge_id, "stars": stars},
            )

        return await self._run(body)

    # ---------------------------------------------------------------- money out

    async def hold(
        self, user_id: int, amount: int, *, key: str, generation_id: str | None = None
    ) -> Movement:
        """Move ``amount`` from available to held. The key is also the hold's key for charge/release."""
        check_amount(amount)
        check_key(key)
        intent = Intent(user_id, "hold", amount, key)

        async def body(conn: asyncpg.Connection) -> Movement:
            account = await lock_account(conn, user_id)
            if (row := await find_entry(conn, key)) is not None:
                return replay(row, intent)
            require_available(account, amount)
            created = await conn.fetchval(
                """
                INSERT INTO holds (hold_key, user_id, amount, generation_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT DO NOTHING RETURNING true
                """,
                key,
                user_id,
                amount,
                generation_id,
            )
            if not created:
                raise KeyTaken(key, intent)
            return await append(conn, key, intent, held_delta=amount, generation_id=generation_id)

        return await self._run(body)

    async def hold_all(self, user_id: int, holds: Sequence[tuple[str, int, str | None]]) -> list[Movement]:
        """Several holds at once, all or none: ``(key, amount, generation id)`` each, e.g. every step of a
        recipe before its first step runs. Keys already held replay (as ``hold`` does); the new ones must fit
        in what is available together, or nothing is held (``InsufficientCredits`` for their total)."""
        intents = [
            (check_key(key), Intent(user_id, "hold", check_amount(amount), key), gid)
            for key, amount, gid in holds
        ]
        async with self._pool.acquire() as conn, conn.transaction():
            account = await lock_account(conn, user_id)
            found = {key: await find_entry(conn, key) for key, _intent, _gid in intents}
            require_available(account, sum(i.amount for key, i, _gid in intents if found[key] is None))
            movements = []
            for key, intent, gid in intents:
                row = found[key]
                if row is not None:
                    movements.append(replay(row, intent))
                    continue
                await conn.execute(
                    "INSERT INTO holds (hold_key, user_id, amount, generation_id) VALUES ($1, $2, $3, $4)",
                    key,
                    user_id,
                    intent.amount,
                    gid,
                )
                movements.append(await append(conn, key, intent, held_delta=intent.amount, generation_id=gid))
            return movements

    async def charge(self, *, hold_key: str, key: str) -> Movement:
        """Turn an open hold into a charge: balance -= amount, held -= amount."""
        return await self._close_hold(hold_key, key, "charge")

    async def release(self, *, hold_key: str, key: str) -> Movement:
        """Give an open hold back to available: held -= amount."""
        return await self._close_hold(hold_key, key, "release")

    async def debit(self, user_id: int, amount: int, *, key: str, reason: str) -> Movement:
        """Take credits out without a hold (negative adjustment); only from available credits."""
        check_amount(amount)
        check_key(key)
        intent = Intent(user_id, "debit", amount)

        async def body(conn: asyncpg.Connection) -> Movement:
            account = await lock_account(conn, user_id)
            if (row := await find_entry(conn, key)) is not None:
                return replay(row, intent)
            require_available(account, amount)
            return await append(conn, key, intent, balance_delta=-amount, reason=reason)

        return await self._run(body)

    async def _close_hold(self, hold_key: str, key: str, kind: Literal["charge", "release"]) -> Movement:
        check_key(hold_key, "hold_key")
        check_key(key)

        async def body(conn: asyncpg.Connection) -> Movement:
            user_id = await conn.fetchval("SELECT user_id FROM holds WHERE hold_key = $1", hold_key)
            if user_id is None:
                raise UnknownHold(hold_key)
            await lock_account(conn, user_id)  # same lock order as everywhere: account, then hold
            hold = await conn.fetchrow("SELECT * FROM holds WHERE hold_key = $1 FOR UPDATE", hold_key)
            intent = Intent(user_id, kind, hold["amount"], hold_key)
            if (row := await find_entry(conn, key)) is not None:
                return replay(row, intent)
            if hold["state"] != "open":
                raise HoldClosed(hold_key, hold["state"])
            await conn.execute(
                """
                UPDATE holds SET state = $2, closed_by = $3, closed_at = now() WHERE hold_key = $1
                """,
                hold_key,
                "charged" if kind == "charge" else "released",
                key,
            )
            amount = hold["amount"]
            return await append(
                conn,
                key,
                intent,
                balance_delta=-amount if kind == "charge" else 0,
                held_delta=-amount,
                generation_id=hold["generation_id"],
            )

        return await self._run(body)

    # ---------------------------------------------------------------- plumbing

    async def _run(self, body: Callable[[asyncpg.Connection], Awaitable[Movement]]) -> Movement:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                return await body(conn)
        except KeyTaken as taken:
            # Rolled back; the concurrent transaction that took the key has committed: its result stands.
            row = await self._pool.fetchrow(
                f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE idempotency_key = $1", taken.key
            )
            if row is None:  # e.g. a payment row without its entry: cannot happen, both commit together
                raise IdempotencyConflict(taken.key, "another operation", taken.intent.describe()) from None
            return replay(row, taken.intent)
