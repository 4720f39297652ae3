"""The reconciliation Schedule on the dev server (the time-skipping server has no Schedule API):
created once however many workers start, and a run of it credits a payment whose update was lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from contracts.ids import RECONCILE_SCHEDULE_ID
from db import check_invariant
from tests.money.conftest import Money
from workflows.schedules import ensure_reconcile_schedule


async def test_schedule_is_idempotent_and_credits_lost_payments(money_dev: Money):
    money = money_dev
    client = money.env.client
    user = await money.new_user()
    await money.pay(user, "s100")  # the update never reached the bot

    for _ in range(3):  # three workers starting
        await ensure_reconcile_schedule(client, task_queue=money.queue, every=timedelta(hours=1))
    schedules = [s async for s in await client.list_schedules()]
    assert [s.id for s in schedules].count(RECONCILE_SCHEDULE_ID) == 1

    handle = client.get_schedule_handle(RECONCILE_SCHEDULE_ID)
    try:
        await handle.trigger()
        for _ in range(200):
            if (await money.ledger.balance(user)).balance == 210:
                break
            await asyncio.sleep(0.05)
        assert (await money.ledger.balance(user)).balance == 210
        assert await check_invariant(money.pool) == []
    finally:
        await handle.delete()
