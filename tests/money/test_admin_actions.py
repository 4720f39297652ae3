"""Admin actions: refunds of top-ups and generations, credit adjustments — once each, audited."""

from __future__ import annotations

from contracts.money import AdjustCreditsRequest, RefundGenerationRequest, RefundTopUpRequest
from db import AdminAudit, Generations, check_invariant
from tests.money.conftest import ADMIN, Money
from tests.money.test_topups import request_for
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow
from workflows.payments import TopUpWorkflow


async def paid_user(money: Money, package: str = "s50") -> tuple[int, str]:
    user = await money.new_user()
    payment = await money.pay(user, package)
    await money.env.client.execute_workflow(
        TopUpWorkflow.run,
        request_for(payment, user),
        id=f"topup-{payment.telegram_payment_charge_id}",
        task_queue=money.queue,
    )
    return user, payment.telegram_payment_charge_id


async def refund(money: Money, charge: str, workflow_id: str):
    return await money.env.client.execute_workflow(
        RefundTopUpWorkflow.run,
        RefundTopUpRequest(admin_id=ADMIN, charge_id=charge, reason="asked by user"),
        id=workflow_id,
        task_queue=money.queue,
    )


async def test_refund_twice_reverses_once(money: Money):
    user, charge = await paid_user(money)
    first = await refund(money, charge, "admin-refund-1")
    second = await refund(money, charge, "admin-refund-2")
    assert (first.outcome, second.outcome) == ("done", "already_done")
    balance = await money.ledger.balance(user)
    assert (balance.balance, balance.held) == (0, 0)
    refunds = [c for c in money.sim.calls_to("refundStarPayment") if c.ok]
    assert len(refunds) == 1
    audit = await AdminAudit(money.pool).recent()
    assert [(a["outcome"], a["admin_id"], a["reason"]) for a in audit[:2]] == [
        ("already_done", ADMIN, "asked by user"),
        ("done", ADMIN, "asked by user"),
    ]
    assert await check_invariant(money.pool) == []


async def test_refund_already_refunded_in_telegram_counts_as_done(money: Money):
    user, charge = await paid_user(money)
    await money.bot.refund_star_payment(user, charge)  # refunded outside the bot
    result = await refund(money, charge, "admin-refund-outside")
    assert result.outcome == "done"
    assert (await money.ledger.balance(user)).balance == 0


async def test_refund_refused_when_the_credits_were_spent(money: Money):
    user, charge = await paid_user(money)
    await money.ledger.hold(user, 60, key="spent-on-a-generation")
    result = await refund(money, charge, "admin-refund-spent")
    assert result.outcome == "refused" and "60 credits short" in (result.detail or "")
    assert money.sim.calls_to("refundStarPayment") == []  # no Star moved
    balance = await money.ledger.balance(user)
    assert (balance.balance, balance.held) == (100, 60)
    assert await check_invariant(money.pool) == []

    # The spent credits come back (the generation failed): asked again, the refund goes through.
    await money.ledger.release(hold_key="spent-on-a-generation", key="spent-released")
    again = await refund(money, charge, "admin-refund-spent")
    assert again.outcome == "done"
    assert (await money.ledger.balance(user)).balance == 0
    outcomes = [
        a["outcome"]
        for a in await AdminAudit(money.pool).recent()
        if a["workflow_id"] == "admin-refund-spent"
    ]
    assert sorted(outcomes) == ["done", "refused"]  # both runs are on record
    assert await check_invariant(money.pool) == []


async def test_adjustment_up_and_down_with_reason(money: Money):
    user = await money.new_user(credits=10)

    async def adjust(amount: int, key: str):
        return await money.env.client.execute_workflow(
            AdjustCreditsWorkflow.run,
            AdjustCreditsRequest(
                admin_id=ADMIN, user_id=user, amount=amount, reason="support ticket 7", request_key=key
            ),
            id=f"admin-adjust-{key}",
            task_queue=money.queue,
        )

    assert (await adjust(25, "k1")).balance_after == 35
    assert (await adjust(-30, "k2")).balance_after == 5
    refused = await adjust(-50, "k3")
    assert refused.outcome == "refused" and (await money.ledger.balance(user)).balance == 5
    movements = await money.ledger.recent_movements(user)
    assert {m.kind for m in movements} >= {"adjustment", "debit"}
    assert await check_invariant(money.pool) == []


async def test_refund_of_a_finished_generation_once(money: Money):
    user = await money.new_user(credits=50)
    generations = Generations(money.pool)
    gid = f"gen-{user}-abc"
    await generations.create(
        gid,
        user_id=user,
        chat_id=user,
        model_id="google/nano-banana",
        format="text-to-image",
        inputs={},
        price=4,
        free=False,
        language="en",
    )
    await money.ledger.hold(user, 4, key=f"hold:{gid}", generation_id=gid)
    await money.ledger.charge(hold_key=f"hold:{gid}", key=f"charge:{gid}")
    await generations.finish(gid, "succeeded")

    async def refund_generation(workflow_id: str):
        return await money.env.client.execute_workflow(
            RefundGenerationWorkflow.run,
            RefundGenerationRequest(admin_id=ADMIN, generation_id=gid, reason="blurry result"),
            id=workflow_id,
            task_queue=money.queue,
        )

    assert (await refund_generation("r1")).outcome == "done"
    assert (await refund_generation("r2")).outcome == "already_done"
    assert (await money.ledger.balance(user)).balance == 50
    assert any("returned" in (m.text or "") for m in money.sim.chat(user).from_bot())
    assert await check_invariant(money.pool) == []
