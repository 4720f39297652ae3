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

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict, computed_field

from db.errors import (
    HoldClosed,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidAmount,
    InvalidArgument,
    RefundExceedsCharge,
    UnknownHold,
    UnknownUser,
)

CreditKind = Literal["topup", "bonus", "adjustment", "refund"]
MovementKind = Literal["topup", "bonus", "adjustment", "refund", "hold", "charge", "release", "debit"]
HoldState = Literal["open", "charged", "released"]
CREDIT_KINDS: frozenset[str] = frozenset(get_args(CreditKind))


class User(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    language: str | None
    referrer_id: int | None
    referral_code: str | None
    created_at: dt.datetime


class Balance(BaseModel):
    model_config = ConfigDict(frozen=True)

    balance: int
    held: int
    available: int


class Movement(BaseModel):
    """One ledger entry, with the account as it was right after it."""

    model_config = ConfigDict(frozen=True)

    id: int
    user_id: int
    kind: MovementKind
    amount: int
    key: str
    hold_key: str | None
    generation_id: str | None
    reason: str
    metadata: dict[str, Any]
    balance_after: int
    held_after: int
    created_at: dt.datetime
    # True when this call found the key already recorded and changed nothing.
    replayed: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def available_after(self) -> int:
        return self.balance_after - self.held_after


class Hold(BaseModel):
    model_config = ConfigDict(frozen=True)

    hold_key: str
    user_id: int
    amount: int
    generation_id: str | None
    state: HoldState
    closed_by: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class _Intent:
    """What a call asks for; a replayed key must have recorded the same."""

    user_id: int
    kind: str
    amount: int
    hold_key: str | None = None

    def describe(self) -> str:
        hold = f" of hold {self.hold_key!r}" if self.hold_key else ""
        return f"{self.kind} of {self.amount}{hold} for user {self.user_id}"


class _KeyTaken(Exception):
    """Internal: the key was committed by a concurrent transaction between our lookup and insert."""

    def __init__(self, key: str, intent: _Intent) -> None:
        super().__init__(key)
        self.key = key
        self.intent = intent


_ENTRY_COLUMNS = (
    "id, user_id, kind, amount, idempotency_key, hold_key, generation_id, reason, metadata, "
    "balance_after, held_after, created_at"
)

_SELECT_CLAIM = "SELECT user_id, day, granted FROM free_usage_claims WHERE key = $1"


def _movement(row: asyncpg.Record, *, replayed: bool = False) -> Movement:
    data = dict(row)
    data["key"] = data.pop("idempotency_key")
    return Movement(**data, replayed=replayed)


def _replay(row: asyncpg.Record, intent: _Intent) -> Movement:
    recorded = _Intent(row["user_id"], row["kind"], row["amount"], row["hold_key"])
    if recorded != intent:
        raise IdempotencyConflict(row["idempotency_key"], recorded.describe(), intent.describe())
    return _movement(row, replayed=True)


def _check_amount(amount: object, what: str = "amount") -> int:
    # bool is an int subclass; True credits are a bug, not one credit.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(amount, what)
    return amount


def _check_key(key: object, what: str = "key") -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgument(f"{what} must be a non-empty string, got {key!r}")
    return key


class Ledger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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
            f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            user_id,
            limit,
        )
        if not rows and not await self._pool.fetchval("SELECT 1 FROM accounts WHERE user_id = $1", user_id):
            raise UnknownUser(user_id)
        return [_movement(row) for row in rows]

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
        _check_amount(amount)
        _check_key(key)
        if kind not in CREDIT_KINDS:
            raise InvalidArgument(f"credit kind must be one of {sorted(CREDIT_KINDS)}, got {kind!r}")
        intent = _Intent(user_id, kind, amount)

        async def body(conn: asyncpg.Connection) -> Movement:
            await _lock_account(conn, user_id)
            if (row := await _find_entry(conn, key)) is not None:
                return _replay(row, intent)
            return await _append(conn, key, intent, balance_delta=amount, reason=reason, metadata=metadata)

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
        _check_amount(amount)
        _check_key(key)
        intent = _Intent(user_id, "refund", amount)

        async def body(conn: asyncpg.Connection) -> Movement:
            await _lock_account(conn, user_id)
            if (row := await _find_entry(conn, key)) is not None:
                return _replay(row, intent)
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
            return await _append(
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
        _check_key(telegram_payment_charge_id, "telegram_payment_charge_id")
        _check_amount(stars, "stars")
        _check_amount(credits, "credits")
        key = f"topup:{telegram_payment_charge_id}"
        intent = _Intent(user_id, "topup", credits)

        async def body(conn: asyncpg.Connection) -> Movement:
            await _lock_account(conn, user_id)
            if (row := await _find_entry(conn, key)) is not None:
                return _replay(row, intent)
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
                raise _KeyTaken(key, intent)
            return await _append(
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
        _check_amount(amount)
        _check_key(key)
        intent = _Intent(user_id, "hold", amount, key)

        async def body(conn: asyncpg.Connection) -> Movement:
            account = await _lock_account(conn, user_id)
            if (row := await _find_entry(conn, key)) is not None:
                return _replay(row, intent)
            _require_available(account, amount)
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
                raise _KeyTaken(key, intent)
            return await _append(conn, key, intent, held_delta=amount, generation_id=generation_id)

        return await self._run(body)

    async def charge(self, *, hold_key: str, key: str) -> Movement:
        """Turn an open hold into a charge: balance -= amount, held -= amount."""
        return await self._close_hold(hold_key, key, "charge")

    async def release(self, *, hold_key: str, key: str) -> Movement:
        """Give an open hold back to available: held -= amount."""
        return await self._close_hold(hold_key, key, "release")

    async def debit(self, user_id: int, amount: int, *, key: str, reason: str) -> Movement:
        """Take credits out without a hold (negative adjustment); only from available credits."""
        _check_amount(amount)
        _check_key(key)
        intent = _Intent(user_id, "debit", amount)

        async def body(conn: asyncpg.Connection) -> Movement:
            account = await _lock_account(conn, user_id)
            if (row := await _find_entry(conn, key)) is not None:
                return _replay(row, intent)
            _require_available(account, amount)
            return await _append(conn, key, intent, balance_delta=-amount, reason=reason)

        return await self._run(body)

    async def _close_hold(self, hold_key: str, key: str, kind: Literal["charge", "release"]) -> Movement:
        _check_key(hold_key, "hold_key")
        _check_key(key)

        async def body(conn: asyncpg.Connection) -> Movement:
            user_id = await conn.fetchval("SELECT user_id FROM holds WHERE hold_key = $1", hold_key)
            if user_id is None:
                raise UnknownHold(hold_key)
            await _lock_account(conn, user_id)  # same lock order as everywhere: account, then hold
            hold = await conn.fetchrow("SELECT * FROM holds WHERE hold_key = $1 FOR UPDATE", hold_key)
            intent = _Intent(user_id, kind, hold["amount"], hold_key)
            if (row := await _find_entry(conn, key)) is not None:
                return _replay(row, intent)
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
            return await _append(
                conn,
                key,
                intent,
                balance_delta=-amount if kind == "charge" else 0,
                held_delta=-amount,
                generation_id=hold["generation_id"],
            )

        return await self._run(body)

    # ---------------------------------------------------------------- free allowance

    async def consume_free(self, user_id: int, *, day: dt.date, limit: int, key: str) -> bool:
        """Take one free generation of ``day`` if fewer than ``limit`` were used. The answer (granted or
        not) is recorded under ``key``: a replay returns the first answer."""
        _check_key(key)
        if not isinstance(limit, int) or limit < 0:
            raise InvalidArgument(f"limit must be a whole number >= 0, got {limit!r}")
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_account(conn, user_id)
            claim = await conn.fetchrow(_SELECT_CLAIM, key)
            if claim is None:
                await conn.execute(
                    "INSERT INTO daily_free_usage (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    user_id,
                    day,
                )
                # Record the key first (not granted); a concurrent claim of the same key by another
                # user waits on it here and then sees it.
                claim = await conn.fetchrow(
                    """
                    INSERT INTO free_usage_claims (key, user_id, day, granted) VALUES ($1, $2, $3, false)
                    ON CONFLICT DO NOTHING RETURNING user_id, day, granted
                    """,
                    key,
                    user_id,
                    day,
                )
                if claim is not None:
                    # The conditional UPDATE is the atomic "take one if any is left".
                    granted = await conn.fetchval(
                        """
                        UPDATE daily_free_usage SET used = used + 1
                        WHERE user_id = $1 AND day = $2 AND used < $3 RETURNING true
                        """,
                        user_id,
                        day,
                        limit,
                    )
                    if granted:
                        await conn.execute("UPDATE free_usage_claims SET granted = true WHERE key = $1", key)
                    return bool(granted)
                claim = await conn.fetchrow(_SELECT_CLAIM, key)
            if (claim["user_id"], claim["day"]) != (user_id, day):
                raise IdempotencyConflict(
                    key,
                    f"free allowance of user {claim['user_id']} on {claim['day']}",
                    f"free allowance of user {user_id} on {day}",
                )
            return bool(claim["granted"])

    async def return_free(self, *, key: str) -> bool:
        """Give back the allowance consumed under ``key``. True if it is returned (now or by an earlier
        call), False if the key consumed nothing (unknown key, or the allowance was refused)."""
        _check_key(key)
        async with self._pool.acquire() as conn, conn.transaction():
            user_id = await conn.fetchval("SELECT user_id FROM free_usage_claims WHERE key = $1", key)
            if user_id is None:
                return False
            await _lock_account(conn, user_id)
            claim = await conn.fetchrow(
                "SELECT day, granted, returned_at FROM free_usage_claims WHERE key = $1 FOR UPDATE", key
            )
            if not claim["granted"]:
                return False
            if claim["returned_at"] is None:
                await conn.execute(
                    "UPDATE daily_free_usage SET used = used - 1 WHERE user_id = $1 AND day = $2",
                    user_id,
                    claim["day"],
                )
                await conn.execute("UPDATE free_usage_claims SET returned_at = now() WHERE key = $1", key)
            return True

    async def free_used(self, user_id: int, *, day: dt.date) -> int:
        used = await self._pool.fetchval(
            "SELECT used FROM daily_free_usage WHERE user_id = $1 AND day = $2", user_id, day
        )
        return used or 0

    # ---------------------------------------------------------------- plumbing

    async def _run(self, body: Callable[[asyncpg.Connection], Awaitable[Movement]]) -> Movement:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                return await body(conn)
        except _KeyTaken as taken:
            # Rolled back; the concurrent transaction that took the key has committed: its result stands.
            row = await self._pool.fetchrow(
                f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE idempotency_key = $1", taken.key
            )
            if row is None:  # e.g. a payment row without its entry: cannot happen, both commit together
                raise IdempotencyConflict(taken.key, "another operation", taken.intent.describe()) from None
            return _replay(row, taken.intent)


async def _lock_account(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT balance, held FROM accounts WHERE user_id = $1 FOR UPDATE", user_id)
    if row is None:
        raise UnknownUser(user_id)
    return row


async def _find_entry(conn: asyncpg.Connection, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE idempotency_key = $1", key)


def _require_available(account: asyncpg.Record, amount: int) -> None:
    available = account["balance"] - account["held"]
    if available < amount:
        raise InsufficientCredits(available, amount)


async def _append(
    conn: asyncpg.Connection,
    key: str,
    intent: _Intent,
    *,
    balance_delta: int = 0,
    held_delta: int = 0,
    generation_id: str | None = None,
    reason: str = "",
    metadata: dict[str, Any] | None = None,
) -> Movement:
    """Change the (locked) account and write the entry explaining it."""
    account = await conn.fetchrow(
        """
        UPDATE accounts SET balance = balance + $2, held = held + $3, updated_at = now()
        WHERE user_id = $1 RETURNING balance, held
        """,
        intent.user_id,
        balance_delta,
        held_delta,
    )
    row = await conn.fetchrow(
        f"""
        INSERT INTO ledger_entries (user_id, kind, amount, idempotency_key, hold_key, generation_id,
                                    reason, metadata, balance_after, held_after)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING {_ENTRY_COLUMNS}
        """,
        intent.user_id,
        intent.kind,
        intent.amount,
        key,
        intent.hold_key,
        generation_id,
        reason,
        metadata or {},
        account["balance"],
        account["held"],
    )
    if row is None:
        raise _KeyTaken(key, intent)
    return _movement(row)
