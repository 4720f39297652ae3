"""Stars payments, referrals and the admin audit trail (the money itself moves through ``Ledger``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

LinkOutcome = Literal["linked", "self_referral", "unknown_code", "already_linked", "not_new"]


class PaymentRecord(BaseModel):
    telegram_payment_charge_id: str
    user_id: int
    stars: int
    credits: int
    payload: str
    status: str
    referral_bonus: int
    source: str
    refunded_at: datetime | None
    created_at: datetime


class Payments:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, charge_id: str) -> PaymentRecord | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM payments WHERE telegram_payment_charge_id = $1", charge_id
        )
        return PaymentRecord(**dict(row)) if row else None

    async def known(self, charge_ids: list[str]) -> set[str]:
        """Which of these charges are already recorded (credited, refunded, or known not to match)."""
        rows = await self._pool.fetch(
            """
            SELECT telegram_payment_charge_id FROM payments WHERE telegram_payment_charge_id = ANY($1::text[])
            UNION
            SELECT telegram_payment_charge_id FROM unmatched_payments
            WHERE telegram_payment_charge_id = ANY($1::text[])
            """,
            charge_ids,
        )
        return {row[0] for row in rows}

    async def annotate(
        self, charge_id: str, *, source: str | None = None, referral_bonus: int | None = None
    ) -> None:
        await self._pool.execute(
            """
            UPDATE payments SET source = coalesce($2, source), referral_bonus = coalesce($3, referral_bonus)
            WHERE telegram_payment_charge_id = $1
            """,
            charge_id,
            source,
            referral_bonus,
        )

    async def record_unmatched(
        self, charge_id: str, *, user_id: int, stars: int, payload: str, detail: str
    ) -> bool:
        """Remember a payment we could not match; True the first time (tell the admins then, only then)."""
        inserted = await self._pool.fetchval(
            """
            INSERT INTO unmatched_payments (telegram_payment_charge_id, user_id, stars, payload, detail)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true
            """,
            charge_id,
            user_id,
            stars,
            payload,
            detail,
        )
        return bool(inserted)

    async def mark_refunded(self, charge_id: str) -> bool:
        status: str | None = await self._pool.fetchval(
            """
            UPDATE payments SET status = 'refunded', refunded_at = coalesce(refunded_at, now())
            WHERE telegram_payment_charge_id = $1 RETURNING status
            """,
            charge_id,
        )
        return status == "refunded"


class Referrals:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def code_for(self, user_id: int) -> str:
        """The user's referral code, created on first use (the user must exist)."""
        for _ in range(5):
            code = "r" + secrets.token_hex(4)
            existing: str | None = await self._pool.fetchval(
                """
                UPDATE users SET referral_code = coalesce(referral_code, $2) WHERE id = $1
                RETURNING referral_code
                """,
                user_id,
                code,
            )
            if existing is not None:
                return existing
        raise RuntimeError(f"user {user_id} does not exist")

    async def link(self, user_id: int, code: str) -> LinkOutcome:
        """Link a *new* user to the owner of ``code``: once, never to themselves, never re-assigned."""
        async with self._pool.acquire() as conn, conn.transaction():
            referrer = await conn.fetchval("SELECT id FROM users WHERE referral_code = $1", code)
            if referrer is None:
                return "unknown_code"
            if referrer == user_id:
                return "self_referral"
            user = await conn.fetchrow("SELECT referrer_id FROM users WHERE id = $1 FOR UPDATE", user_id)
            if user is None:
                return "not_new"
            if user["referrer_id"] is not None:
                return "already_linked"
            # "New" means the user has done nothing yet: no money moved, no generation asked for.
            active = await conn.fetchval(
                """
                SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE user_id = $1)
                    OR EXISTS (SELECT 1 FROM generations WHERE user_id = $1)
                """,
                user_id,
            )
            if active:
                return "not_new"
            await conn.execute(
                "UPDATE users SET referrer_id = $2, referred_at = now() WHERE id = $1", user_id, referrer
            )
            return "linked"

    async def referrer_of(self, user_id: int) -> int | None:
        referrer: int | None = await self._pool.fetchval(
            "SELECT referrer_id FROM users WHERE id = $1", user_id
        )
        return referrer


class AdminAudit:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        *,
        workflow_id: str,
        run_id: str = "",
        admin_id: int,
        action: str,
        target: str,
        reason: str,
        outcome: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        # One row per run of an admin workflow: a retried activity does not log the action twice, while the
        # same action asked for again (a new run under the same id) is logged again.
        await self._pool.execute(
            """
            INSERT INTO admin_actions
                (workflow_id, run_id, admin_id, action, target, reason, outcome, details)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workflow_id, run_id) DO NOTHING
            """,
            workflow_id,
            run_id,
            admin_id,
            action,
            target,
            reason,
            outcome,
            details or {},
        )

    async def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = await self._pool.fetch("SELECT * FROM admin_actions ORDER BY id DESC LIMIT $1", limit)
        return [dict(row) for row in rows]
