"""Top-ups with Telegram Stars through the real client, the simulator and the whole stack: the invoice, the
pre-checkout answered in the bot process, the successful payment turned into one TopUpWorkflow, duplicates,
refusals, referral bonuses and a payment whose update was lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from aiogram.types import Chat, LabeledPrice, Message, SuccessfulPayment
from aiogram.types import User as TgUser
from temporalio.client import ScheduleOverlapPolicy
from temporalio.service import RPCError

from billing import load_packages, make_order_reference, read_order_reference
from bot.app import make_bot
from bot.middlewares import FloodMiddleware
from contracts.buttons import (
    BuyPackage,
)
from contracts.ids import RECONCILE_SCHEDULE_ID
from contracts.money import ReconcileInput, TopUpRequest, TopUpResult
from db import Referrals, check_invariant
from tests.bot.conftest import Harness, User, bot_settings, buttons
from workflows.payments import ReconcileStarsWorkflow
from workflows.starter import start_topup

PACKAGES = load_packages()


def secret(harness: Harness) -> str:
    return harness.system.stack.env["CALLBACK_SECRET"]


def charges(chat: dict[str, Any]) -> list[str]:
    """The charge ids of the successful payments in the chat (one per payment, not per update)."""
    return [
        m["extra"]["successful_payment"]["telegram_payment_charge_id"]
        for m in chat["messages"]
        if "successful_payment" in (m.get("extra") or {})
    ]


def notices(chat: dict[str, Any]) -> list[str]:
    return [
        m["text"]
        for m in chat["messages"]
        if m["sender"] == "bot" and "Payment received" in (m["text"] or "")
    ]


async def open_invoice(user: User, package_id: str) -> dict[str, Any]:
    """Top up → the package: the invoice the bot sent into the chat."""
    await user.send("/topup")
    before = len(await user.invoices())
    await user.press(BuyPackage(package=package_id))
    invoices = await user.invoices()
    assert len(invoices) == before + 1
    return invoices[-1]


async def pay(harness: Harness, user: User, package_id: str = "s50", *, duplicates: int = 0) -> str:
    """The user tops up through the bot; returns the charge id once every copy of the update was handled and
    the top-up workflow has finished."""
    invoice = await open_invoice(user, package_id)
    query = await user.pay(invoice["message_id"], duplicates=duplicates)
    answer = await harness.pre_checkout_answer(query["id"])
    assert answer["ok"] == "true", answer
    # The successful_payment updates were queued when the bot approved: the next update ids.
    for offset in range(1, duplicates + 2):
        await harness.handled(user.sent[-1] + offset)
    charge = charges(await user.chat())[-1]
    await asyncio.wait_for(
        harness.system.client.get_workflow_handle(f"topup-{charge}", result_type=TopUpResult).result(), 30
    )
    return charge


async def test_top_up_end_to_end_ten_copies_of_the_update_credit_once(harness: Harness):
    user = await harness.user(credits=0)
    await user.send("/topup")
    screen = await user.last()
    labels = {b["callback_data"]: b["text"] for b in buttons(screen)}
    assert labels[BuyPackage(package="s50").pack()] == "⭐ 50 → 100 credits"
    assert labels[BuyPackage(package="s500").pack()] == "⭐ 500 → 1150 credits · best value"
    assert "Available now: 0 credits" in screen["text"]

    invoice = await open_invoice(user, "s100")
    assert (
        invoice["extra"]["invoice"]["currency"] == "XTR"
        and invoice["extra"]["invoice"]["total_amount"] == 100
    )
    assert invoice["extra"]["invoice"]["title"] == "210 credits for Genflow"
    sent = (await user.calls("sendInvoice"))[-1]["params"]
    assert sent["prices"] == [{"label": "210 credits", "amount": 100}]
    assert not sent.get("provider_token") and not sent.get("max_tip_amount")
    order = read_order_reference(secret(harness), sent["payload"])
    assert order is not None and (order.package_id, order.user_id) == ("s100", user.id)
    assert abs(order.expires_at - (time.time() + 3600)) < 60

    messages_before = len(await user.bot_messages())
    query = await user.pay(invoice["message_id"], duplicates=9)  # ten successful_payment updates
    answer = await harness.pre_checkout_answer(query["id"])
    assert answer["ok"] == "true" and not answer.get("error_message")
    for offset in range(1, 11):
        await harness.handled(user.sent[-1] + offset)
    charge = charges(await user.chat())[-1]
    handle = harness.system.client.get_workflow_handle(f"topup-{charge}", result_type=TopUpResult)
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.outcome == "credited" and result.credits == 210

    chat = await user.wait_for(lambda chat: bool(notices(chat)))
    await asyncio.sleep(0.3)
    chat = await user.chat()
    assert notices(chat) == ["✅ Payment received: +210 credits. Your balance: 210."]
    # The bot itself said nothing about the payment: the only new message is the workflow's notice.
    assert len(await user.bot_messages()) == messages_before + 1
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (210, 0)
    payment = await harness.app.services.payments.get(charge)
    assert payment is not None and (payment.stars, payment.credits, payment.source) == (100, 210, "update")
    assert await check_invariant(harness.system.pool) == []


async def test_pre_checkout_refuses_what_is_not_a_valid_order(harness: Harness):
    user = await harness.user(credits=0)
    other = await harness.user(credits=0)
    russian = await harness.user(credits=0, language_code="ru", stored_language=False)
    bot = harness.app.bot
    now = int(time.time())
    good = make_order_reference(secret(harness), "s50", user.id, now + 600)
    tampered = "s500" + good.removeprefix("s50")  # a bigger package under the same signature
    cases = [
        (user, tampered, 500, "This invoice is not valid. Open Top up for a new one."),
        (
            user,
            make_order_reference(secret(harness), "s50", other.id, now + 600),
            50,
            "This invoice was issued to another Telegram account. Open Top up in your own chat with the bot.",
        ),
        (
            user,
            make_order_reference(secret(harness), "s50", user.id, now - 1),
            50,
            "This invoice has expired. Open Top up for a new one.",
        ),
        (user, good, 40, "The price of this package has changed. Open Top up and pay the new invoice."),
        (
            russian,
            make_order_reference(secret(harness), "s50", russian.id, now - 1),
            50,
            "Срок действия этого счёта истёк. Откройте «Пополнить», чтобы получить новый.",
        ),
    ]
    for payer, payload, stars, expected in cases:
        invoice = await bot.send_invoice(
            payer.id,
            title="100 credits",
            description="A top-up",
            payload=payload,
            currency="XTR",
            prices=[LabeledPrice(label="100 credits", amount=stars)],
        )
        query = await payer.pay(invoice.message_id)
        answer = await harness.pre_checkout_answer(query["id"])
        assert answer["ok"] == "false" and answer["error_message"] == expected
    for payer in (user, russian):
        assert charges(await payer.chat()) == []
        assert (await harness.system.ledger.balance(payer.id)).balance == 0
    assert await check_invariant(harness.system.pool) == []


async def test_referral_bonus_once_per_payment(harness: Harness):
    inviter = await harness.user(credits=0)
    await inviter.send("/invite")
    text = await inviter.last_text()
    code = await Referrals(harness.system.pool).code_for(inviter.id)
    assert f"https://t.me/genflow_local_bot?start=ref_{code}" in text and "10%" in text
    await inviter.send(f"/start ref_{code}")  # one's own link: quietly nothing
    assert not (await inviter.last_text()).startswith("🎁")

    friend = await harness.user(credits=0)
    await friend.send(f"/start ref_{code}")
    assert (await friend.last_text()).startswith("🎁 Welcome! You joined with a friend's invitation.")
    assert await Referrals(harness.system.pool).referrer_of(friend.id) == inviter.id

    charge = await pay(harness, friend, "s50", duplicates=1)  # the update twice
    # And the reconciliation reports the same charge once more: still one bonus.
    request = TopUpRequest(
        user_id=friend.id,
        chat_id=friend.id,
        charge_id=charge,
        total_amount=50,
        invoice_payload=(await harness.app.services.payments.get(charge)).payload,
        source="reconciliation",
    )
    await (
        await start_topup(harness.system.client, request, task_queue=harness.app.services.task_queue)
    ).result()
    assert (await harness.system.ledger.balance(friend.id)).balance == 100
    assert (await harness.system.ledger.balance(inviter.id)).balance == 10
    bonuses = await harness.system.pool.fetch(
        "SELECT idempotency_key FROM ledger_entries WHERE user_id = $1 AND kind = 'bonus'", inviter.id
    )
    assert [b["idempotency_key"] for b in bonuses] == [f"referral:{charge}"]
    assert await check_invariant(harness.system.pool) == []


async def test_payment_whose_update_was_lost_is_credited_by_the_reconciliation(harness: Harness):
    user = await harness.user(credits=0, language_code="ru", stored_language=False)
    await user.send("/start")  # first contact: the bot stores the user's Telegram language
    invoice = await open_invoice(user, "s50")
    await harness.stop()  # the bot is down

    # The user pays. Telegram's pre-checkout was approved (by the bot just before it went down, as it were)
    # and the successful_payment update never reaches a running bot: it is lost.
    system = harness.system
    update = (
        await harness.sim("POST", f"/_sim/users/{user.id}/pay", json={"message_id": invoice["message_id"]})
    )["update"]
    raw = make_bot(bot_settings(system))
    try:
        pending = await raw.get_updates(timeout=1)
        query = next(u.pre_checkout_query for u in pending if u.update_id == update["update_id"])
        assert query is not None
        await raw.answer_pre_checkout_query(query.id, ok=True)
        paid = await raw.get_updates(offset=update["update_id"] + 1, timeout=1)
        assert any(u.message and u.message.successful_payment for u in paid)
        await raw.get_updates(offset=paid[-1].update_id + 1, timeout=0)  # gone
    finally:
        await raw.session.close()
    charge = charges(await user.chat())[-1]
    assert (
        await system.pool.fetchval(
            "SELECT count(*) FROM payments WHERE telegram_payment_charge_id = $1", charge
        )
        == 0
    )

    await harness.start()
    try:
        schedule = system.client.get_schedule_handle(RECONCILE_SCHEDULE_ID)
        await schedule.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    except RPCError:  # no schedule (the worker creates it at start): run the reconciliation directly
        await system.client.execute_workflow(
            ReconcileStarsWorkflow.run,
            ReconcileInput(),
            id=f"reconcile-test-{charge}",
            task_queue=harness.app.services.task_queue,
        )
    # The schedule starts the reconciliation, which starts the top-up: wait for it to exist, then to end.
    handle = system.client.get_workflow_handle(f"topup-{charge}", result_type=TopUpResult)
    for _ in range(200):
        try:
            await handle.describe()
            break
        except RPCError:
            await asyncio.sleep(0.1)
    assert (await asyncio.wait_for(handle.result(), 30)).outcome == "credited"
    # Stored on first contact, for messages like this one that no conversation is waiting for.
    assert (await system.ledger.get_user(user.id)).language == "ru"
    # One notice. Its language is the reconciliation's TopUpRequest default ("en") until credit_topup /
    # notify_topup read the stored language (asked for in the bot's report); then it is Russian here.
    received = (
        "✅ Оплата получена: +100 кр. Ваш баланс: 100.",
        "✅ Payment received: +100 credits. Your balance: 100.",
    )
    await user.wait_for(lambda chat: any(m["text"] in received for m in chat["messages"]))
    await asyncio.sleep(0.3)
    assert len([m for m in (await user.chat())["messages"] if m["text"] in received]) == 1
    payment = await harness.app.services.payments.get(charge)
    assert payment is not None and payment.source == "reconciliation"

    # The update turns up late after all: the same workflow id, nothing credited twice.
    late = TopUpRequest(
        user_id=user.id, chat_id=user.id, charge_id=charge, total_amount=50, invoice_payload=payment.payload
    )
    await (await start_topup(system.client, late, task_queue=harness.app.services.task_queue)).result()
    assert (await system.ledger.balance(user.id)).balance == 100
    assert await check_invariant(system.pool) == []


async def test_payment_messages_pass_flood_control():
    """Telegram sends successful_payment, not the user: it must not be dropped because the user typed fast."""
    flood = FloodMiddleware(rate_per_second=0.001, burst=1)
    user = TgUser(id=42, is_bot=False, first_name="Ann")
    chat = Chat(id=42, type="private")
    paid = SuccessfulPayment(
        currency="XTR",
        total_amount=50,
        invoice_payload="s50.42.1.sig",
        telegram_payment_charge_id="stx1",
        provider_payment_charge_id="",
    )
    handled: list[int] = []

    async def handler(event: Message, data: dict[str, Any]) -> None:
        handled.append(event.message_id)

    assert flood.allow(user.id)  # the burst is spent
    flood.should_warn(user.id)  # and the user was warned just now
    data = {"event_from_user": user}
    now = dt.datetime.now(dt.UTC)
    await flood(handler, Message(message_id=1, date=now, chat=chat, from_user=user, text="hi"), data)
    await flood(
        handler, Message(message_id=2, date=now, chat=chat, from_user=user, successful_payment=paid), data
    )
    assert handled == [2]
