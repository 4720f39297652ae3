"""The ledger's records and the one way an entry is written: the models callers see (User, Balance,
Movement, Hold) and the helpers every money operation shares (``db.ledger`` explains the protocol)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict, computed_field

from db.errors import IdempotencyConflict, InsufficientCredits, InvalidAmount, InvalidArgument, UnknownUser

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
class Intent:
    """What a call asks for; a replayed key must have recorded the same."""

    user_id: int
    kind: str
    amount: int
    hold_key: str | None = None

    def describe(self) -> str:
        hold = f" of hold {self.hold_key!r}" if self.hold_key else ""
        return f"{self.kind} of {self.amount}{hold} for user {self.user_id}"


class KeyTaken(Exception):
    """Internal: the key was committed by a concurrent transaction between our lookup and insert."""

    def __init__(self, key: str, intent: Intent) -> None:
        super().__init__(key)
        self.key = key
        self.intent = intent


ENTRY_COLUMNS = (
    "id, user_id, kind, amount, idempotency_key, hold_key, generation_id, reason, metadata, "
    "balance_after, held_after, created_at"
)


def movement_of(row: asyncpg.Record, *, replayed: bool = False) -> Movement:
    data = dict(row)
    data["key"] = data.pop("idempotency_key")
    return Movement(**data, replayed=replayed)


def replay(row: asyncpg.Record, intent: Intent) -> Movement:
    recorded = Intent(row["user_id"], row["kind"], row["amount"], row["hold_key"])
    if recorded != intent:
        raise IdempotencyConflict(row["idempotency_key"], recorded.describe(), intent.describe())
    return movement_of(row, replayed=True)


def check_amount(amount: object, what: str = "amount") -> int:
    # bool is an int subclass; True credits are a bug, not one credit.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(amount, what)
    return amount


def check_key(key: object, what: str = "key") -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgument(f"{what} must be a non-empty string, got {key!r}")
    return key


async def lock_account(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT balance, held FROM accounts WHERE user_id = $1 FOR UPDATE", user_id)
    if row is None:
        raise UnknownUser(user_id)
    return row


async def find_entry(conn: asyncpg.Connection, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE idempotency_key = $1", key)


def require_available(account: asyncpg.Record, amount: int) -> None:
    available = account["balance"] - account["held"]
    if available < amount:
        raise InsufficientCredits(available, amount)


async def append(
    conn: asyncpg.Connection,
    key: str,
    intent: Intent,
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
        RETURNING {ENTRY_COLUMNS}
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
        raise KeyTaken(key, intent)
    return movement_of(row)
