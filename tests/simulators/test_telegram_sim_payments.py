"""Telegram Stars through the real aiogram client: invoice, pre-checkout, payment, refund, reconciliation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from simulators.telegram import SimulatorConfig, TelegramSimulator
from simulators.telegram.testing import TEST_TOKEN, bot_for, running_simulator, shape_differences

USER = 123456789
FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot]]:
    async with running_simulator(SimulatorConfig(token=TEST_TOKEN, pre_checkout_timeout=0.2)) as simulator:
        client = bot_for(simulator)
        yield simulator, client
        await client.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot]) -> TelegramSimulator:
    simulator = running[0]
    simulator.reset()
    simulator.add_user(USER, first_name="Test", last_name="User", username="test_user", language_code="en")
    return simulator


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot], sim: TelegramSimulator) -> Bot:
    return running[1]


async def send_invoice(bot: Bot, amount: int = 50, payload: str = "order:7f3c2a9e") -> int:
    message = await bot.send_invoice(
        USER,
        title="50 Stars",
        description="Credits for generations",
        payload=payload,
        currency="XTR",
        prices=[LabeledPrice(label="50 Stars", amount=amount)],
    )
    assert message.invoice is not None and message.invoice.total_amount == amount
    return message.message_id


async def test_pay_answer_and_successful_payment(sim: TelegramSimulator, bot: Bot) -> None:
    invoice_id = await send_invoice(bot)
    sim.pay(USER, invoice_id)
    [update] = await bot.get_updates(timeout=1)
    query = update.pre_checkout_query
    assert query is not None and (query.invoice_payload, query.total_amount) == ("order:7f3c2a9e", 50)
    raw = sim.calls_to("getUpdates")[-1].result[0]
    assert shape_differences(raw, fixture("update_pre_checkout_query.json")) == []

    assert await bot.answer_pre_checkout_query(query.id, ok=True)
    [paid] = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert paid.message is not None and paid.message.successful_payment is not None
    payment = paid.message.successful_payment
    assert (payment.currency, payment.total_amount, payment.invoice_payload) == ("XTR", 50, "order:7f3c2a9e")
    raw = sim.calls_to("getUpdates")[-1].result[0]
    assert shape_differences(raw, fixture("update_message_successful_payment.json")) == []

    transactions = await bot.get_star_transactions(offset=0, limit=100)
    [transaction] = transactions.transactions
    assert (transaction.id, transaction.amount) == (payment.telegram_payment_charge_id, 50)

    assert await bot.refund_star_payment(USER, payment.telegram_payment_charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(USER, payment.telegram_payment_charge_id)
    assert len((await bot.get_star_transactions()).transactions) == 2  # the payment and its refund


async def test_paying_twice_gives_two_charge_ids_and_duplicates_repeat_one(
    sim: TelegramSimulator, bot: Bot
) -> None:
    invoice_id = await send_invoice(bot)
    for duplicates in (0, 1):
        update = sim.pay(USER, invoice_id, duplicates=duplicates)
        await bot.answer_pre_checkout_query(update["pre_checkout_query"]["id"], ok=True)
    charges = [
        u["message"]["successful_payment"]["telegram_payment_charge_id"]
        for u in sim.pending_updates
        if "successful_payment" in u.get("message", {})
    ]
    assert len(charges) == 3 and len(set(charges)) == 2  # the second payment arrives twice
    ids = [u["update_id"] for u in sim.pending_updates]
    assert len(set(ids)) == len(ids)


async def test_declined_and_late_answers(sim: TelegramSimulator, bot: Bot) -> None:
    invoice_id = await send_invoice(bot)
    declined = sim.pay(USER, invoice_id)["pre_checkout_query"]["id"]
    assert await bot.answer_pre_checkout_query(declined, ok=False, error_message="Order expired")
    late = sim.pay(USER, invoice_id)["pre_checkout_query"]["id"]
    await asyncio.sleep(0.25)  # past this module's answer window (Telegram: 10 s)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(late, ok=True)
    assert not any("successful_payment" in u.get("message", {}) for u in sim.pending_updates)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"currency": "USD"}, "PAYMENT_PROVIDER_INVALID"),
        (
            {"prices": [LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=2)]},
            "STARS_INVOICE_INVALID",
        ),
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
    ],
)
async def test_invoice_validation(bot: Bot, kwargs: dict[str, Any], error: str) -> None:
    arguments: dict[str, Any] = {
        "chat_id": USER,
        "title": "Stars",
        "description": "Credits",
        "payload": "order:1",
        "currency": "XTR",
        "prices": [LabeledPrice(label="Stars", amount=10)],
        **kwargs,
    }
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_invoice(**arguments)


async def test_star_transactions_paging(sim: TelegramSimulator, bot: Bot) -> None:
    invoice_id = await send_invoice(bot)
    for _ in range(3):
        await bot.answer_pre_checkout_query(sim.pay(USER, invoice_id)["pre_checkout_query"]["id"], ok=True)
    page = await bot.get_star_transactions(offset=1, limit=1)
    assert len(page.transactions) == 1
    assert page.transactions[0].id == (await bot.get_star_transactions()).transactions[1].id
    with pytest.raises(TelegramBadRequest):
        await bot.get_star_transactions(limit=101)
