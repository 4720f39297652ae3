"""Top-ups: exactly once per charge, however the update arrives; reconciliation; referral bonuses."""

from __future__ import annotations

import asyncio
import time

from contracts.money import ReconcileInput, TopUpRequest
from db import Referrals, check_invariant
from tests.money.conftest import SECRET, Money
from workflows.payments import ReconcileStarsWorkflow, TopUpWorkflow
from workflows.starter import start_topup


def request_for(payment, user_id: int, **overrides) -> TopUpRequest:
    return TopUpRequest(
        user_id=user_id,
        chat_id=user_id,
        charge_id=payment.telegram_payment_charge_id,
        total_amount=payment.total_amount,
        currency=payment.currency,
        invoice_payload=payment.invoice_payload,
        **overrides,
    )


async def test_ten_concurrent_duplicate_updates_credit_once(money_dev: Money):
    money = money_dev
    user = await money.new_user()
    payment = await money.pay(user, "s100")
    handles = await asyncio.gather(
        *(
            start_topup(money.env.client, request_for(payment, user), task_queue=money.queue)
            for _ in range(10)
        )
    )
    results = await asyncio.gather(*(h.result() for h in handles))
    assert {r.outcome for r in results} == {"credited"}
    balance = await money.ledger.balance(user)
    assert balance.balance == 210
    # One workflow, one thank-you message.
    assert len({h.id for h in handles}) == 1
    notes = [m for m in money.sim.chat(user).from_bot() if m.text and "Payment received" in m.text]
    assert len(notes) == 1 and "210" in notes[0].text
    assert await check_invariant(money.pool) == []


async def test_the_same_charge_after_retention_is_still_credited_once(money: Money):
    # Temporal may have forgotten the first workflow; the ledger key remembers the charge.
    user = await money.new_user()
    payment = await money.pay(user)
    first = await money.env.client.execute_workflow(
        TopUpWorkflow.run, request_for(payment, user), id="topup-a", task_queue=money.queue
    )
    second = await money.env.client.execute_workflow(
        TopUpWorkflow.run, request_for(payment, user), id="topup-b", task_queue=money.queue
    )
    assert first.outcome == second.outcome == "credited" and second.replayed
    assert (await money.ledger.balance(user)).balance == 100


async def test_forged_or_mismatched_payments_are_not_credited_and_reported(money: Money):
    user = await money.new_user()
    other = await money.new_user()
    # Paid, but the payload is not one of our orders, or was made out for someone else.
    forged = await money.pay(user, payload="s500.1.9999999999.AAAAAAAAAAAAAAAAAAAAAAAA")
    from billing import make_order_reference

    foreign = await money.pay(user, payload=make_order_reference(SECRET, "s50", other, int(time.time()) + 60))
    for payment in (forged, foreign):
        result = await money.env.client.execute_workflow(
            TopUpWorkflow.run,
            request_for(payment, user),
            id=f"topup-{payment.telegram_payment_charge_id}",
            task_queue=money.queue,
        )
        assert result.outcome == "unmatched"
    assert (await money.ledger.balance(user)).balance == 0
    admin_notes = [m.text for m in money.sim.chat(900).from_bot()]
    assert len(admin_notes) == 2 and all("could not be matched" in t for t in admin_notes)


async def test_lost_update_is_credited_by_reconciliation(money: Money):
    user = await money.new_user()
    await money.pay(user, "s250")  # paid in Telegram, but the bot never saw the update
    first = await money.env.client.execute_workflow(
        ReconcileStarsWorkflow.run, ReconcileInput(), id="reconcile-1", task_queue=money.queue
    )
    assert first.checked >= 1 and len(first.started) == 1
    child = money.env.client.get_workflow_handle_for(TopUpWorkflow.run, f"topup-{first.started[0]}")
    assert (await child.result()).outcome == "credited"
    assert (await money.ledger.balance(user)).balance == 550
    # The next run finds nothing left to do.
    second = await money.env.client.execute_workflow(
        ReconcileStarsWorkflow.run, ReconcileInput(), id="reconcile-2", task_queue=money.queue
    )
    assert second.started == []
    assert await check_invariant(money.pool) == []


async def test_an_unmatched_payment_is_reported_once_across_reconciliations(money: Money):
    user = await money.new_user()
    await money.pay(user, payload="s50.1.9999999999.AAAAAAAAAAAAAAAAAAAAAAAA")  # not one of our orders
    for run in range(3):
        await money.env.client.execute_workflow(
            ReconcileStarsWorkflow.run, ReconcileInput(), id=f"reconcile-u{run}", task_queue=money.queue
        )
        await asyncio.sleep(0.3)  # the child top-up workflow runs on its own
    admin_notes = [m.text for m in money.sim.chat(900).from_bot() if "could not be matched" in (m.text or "")]
    assert len(admin_notes) == 1
    assert (await money.ledger.balance(user)).balance == 0


async def test_referrer_earns_a_bonus_once_per_charge(money: Money):
    referrer = await money.new_user()
    friend = await money.new_user()
    code = await Referrals(money.pool).code_for(referrer)
    assert await Referrals(money.pool).link(friend, code) == "linked"
    payment = await money.pay(friend, "s500")
    for workflow_id in ("topup-x1", "topup-x2"):  # the same charge reported twice
        result = await money.env.client.execute_workflow(
            TopUpWorkflow.run, request_for(payment, friend), id=workflow_id, task_queue=money.queue
        )
        assert result.referral_bonus == 115
    assert (await money.ledger.balance(referrer)).balance == 115
    assert (await money.ledger.balance(friend)).balance == 1150
    assert await check_invariant(money.pool) == []


async def test_referral_links_once_never_to_self_never_reassigned(money: Money):
    referrals = Referrals(money.pool)
    a, b, newcomer = [await money.new_user() for _ in range(3)]
    code_a, code_b = await referrals.code_for(a), await referrals.code_for(b)
    assert await referrals.code_for(a) == code_a  # stable
    assert await referrals.link(a, code_a) == "self_referral"
    assert await referrals.link(newcomer, "nope") == "unknown_code"
    assert await referrals.link(newcomer, code_a) == "linked"
    assert await referrals.link(newcomer, code_b) == "already_linked"
    active = await money.new_user(credits=5)  # has already moved money: not a new user
    assert await referrals.link(active, code_a) == "not_new"
    assert await referrals.referrer_of(newcomer) == a
