"""The admin panel's read-only SQL on known rows: periods, kinds of money, what waits too long."""

from __future__ import annotations

import datetime as dt

import asyncpg

from bot.admin.stats import open_holds, period_stats, recent_payments, start_of_day, waiting_too_long
from catalog import get_catalog


async def seed(pool: asyncpg.Pool, now: dt.datetime) -> None:
    minutes = dt.timedelta(minutes=1)
    days = dt.timedelta(days=1)
    for user in (1, 2):
        await pool.execute("INSERT INTO users (id) VALUES ($1)", user)
        await pool.execute("INSERT INTO accounts (user_id, balance) VALUES ($1, 1000)", user)
    generations = [
        ("g1", "text-to-image", "succeeded", now),
        ("g2", "text-to-image", "failed", now),
        ("g3", "text-to-video", "running", now - 10 * minutes),  # usually 5 min: waiting too long
        ("g4", "text-to-image", "running", now - 10 * dt.timedelta(seconds=1)),  # usually 60 s: fine
        ("g5", "text-to-image", "succeeded", now - 3 * days),
        ("g6", "text-to-video", "succeeded", now - 10 * days),
    ]
    for gid, fmt, status, created in generations:
        await pool.execute(
            """
            INSERT INTO generations (id, user_id, chat_id, model_id, format, price, status, created_at,
                                     finished_at)
            VALUES ($1, 1, 1, 'some/model', $2, 4, $3, $4,
                    CASE WHEN $3 IN ('succeeded', 'failed') THEN $4::timestamptz END)
            """,
            gid,
            fmt,
            status,
            created,
        )
    holds = [  # hold key, generation, closing kind, amount, when
        ("hold:g1", "g1", "charge", 4, now),
        ("hold:g5", "g5", "charge", 8, now - 3 * days),
        ("hold:g6", "g6", "charge", 16, now - 10 * days),
        ("hold:g2", "g2", "release", 6, now),
        ("topup-refund-hold:c2", None, "charge", 210, now),  # a top-up's reversal: not a generation's charge
        ("hold:g3", "g3", None, 5, now),
    ]
    for key, gid, kind, amount, when in holds:
        state = {"charge": "charged", "release": "released", None: "open"}[kind]
        await pool.execute(
            """
            INSERT INTO holds (hold_key, user_id, amount, generation_id, state, closed_by, closed_at)
            VALUES ($1, 1, $2, $3, $4, $5, $6)
            """,
            key,
            amount,
            gid,
            state,
            None if kind is None else f"{kind}:{key}",
            None if kind is None else when,
        )
        if kind is not None:
            await entry(pool, kind, amount, f"{kind}:{key}", when, hold_key=key, generation_id=gid)
    await entry(pool, "refund", 4, "gen-refund:g1", now, generation_id="g1")
    await entry(pool, "refund", 7, "gen-refund:g6", now - 10 * days, generation_id="g6")
    payments = [  # charge id, stars, credits, created, refunded
        ("c1", 50, 100, now, None),
        ("c2", 100, 210, now - 3 * days, now),
        ("c3", 250, 550, now - 10 * days, None),
    ]
    for charge, stars, credits, created, refunded in payments:
        await pool.execute(
            """
            INSERT INTO payments (telegram_payment_charge_id, user_id, stars, credits, status, refunded_at,
                                  created_at)
            VALUES ($1, 1, $2, $3, $4, $5, $6)
            """,
            charge,
            stars,
            credits,
            "refunded" if refunded else "credited",
            refunded,
            created,
        )


async def entry(
    pool: asyncpg.Pool,
    kind: str,
    amount: int,
    key: str,
    when: dt.datetime,
    *,
    hold_key: str | None = None,
    generation_id: str | None = None,
) -> None:
    await pool.execute(
        """
        INSERT INTO ledger_entries (user_id, kind, amount, idempotency_key, hold_key, generation_id,
                                    balance_after, held_after, created_at)
        VALUES (1, $1, $2, $3, $4, $5, 0, 0, $6)
        """,
        kind,
        amount,
        key,
        hold_key,
        generation_id,
        when,
    )


async def test_periods_and_kinds_of_money(db_pool: asyncpg.Pool):
    now = dt.datetime.now(dt.UTC)
    await seed(db_pool, now)

    hour = await period_stats(db_pool, now - dt.timedelta(hours=1))
    assert hour.generations == {
        "text-to-image": {"succeeded": 1, "failed": 1, "running": 1},
        "text-to-video": {"running": 1},
    }
    assert hour.generation_count == 4 and hour.by_status() == {"succeeded": 1, "failed": 1, "running": 2}
    assert (hour.charged, hour.refunds, hour.refunded, hour.released) == (4, 1, 4, 6)
    assert (hour.topups, hour.topup_stars, hour.topup_credits) == (1, 50, 100)
    assert (hour.topup_refunds, hour.topup_refund_stars) == (1, 100)

    week = await period_stats(db_pool, now - dt.timedelta(days=7))
    assert week.generations["text-to-image"] == {"succeeded": 2, "failed": 1, "running": 1}
    assert week.generations["text-to-video"] == {"running": 1}
    assert (week.charged, week.refunds, week.refunded) == (12, 1, 4)
    assert (week.topups, week.topup_stars, week.topup_credits) == (2, 150, 310)
    assert (week.topup_refunds, week.topup_refund_stars) == (1, 100)

    empty = await period_stats(db_pool, now + dt.timedelta(hours=1))
    assert empty.generation_count == 0 and empty.charged == 0 and empty.topups == 0


async def test_waiting_too_long_holds_and_payments(db_pool: asyncpg.Pool):
    now = dt.datetime.now(dt.UTC)
    await seed(db_pool, now)
    waiting = await waiting_too_long(db_pool, get_catalog())
    assert [(w.id, w.format, w.usual_seconds) for w in waiting] == [("g3", "text-to-video", 300)]
    assert 590 < waiting[0].age_seconds < 700
    assert [h.hold_key for h in await open_holds(db_pool, 1)] == ["hold:g3"]
    assert [p.telegram_payment_charge_id for p in await recent_payments(db_pool, 1)] == ["c1", "c2", "c3"]
    assert await recent_payments(db_pool, 2) == []


def test_start_of_day_is_midnight_utc():
    moscow = dt.timezone(dt.timedelta(hours=3))
    assert start_of_day(dt.datetime(2026, 11, 22, 1, 30, tzinfo=moscow)) == dt.datetime(
        2026, 11, 21, tzinfo=dt.UTC
    )
