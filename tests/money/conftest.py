"""Money workflows with their REAL activities: PostgreSQL ledger, and Stars paid through the Telegram
simulator with the real aiogram client. Time-skipping server, so retries and schedules cost nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest
from aiogram import Bot
from aiogram.types import LabeledPrice
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.admin import AdminActivities
from activities.notices import NoticeActivities
from activities.payments import PaymentActivities
from activities.stars import StarsActivities
from billing import load_packages, make_order_reference
from contracts.queues import telegram_task_queue
from db import AdminAudit, Generations, Ledger, Payments, Referrals
from genflow.embedded import temporal_test_server
from simulators.telegram import SimulatorConfig, TelegramSimulator
from simulators.telegram.testing import TEST_TOKEN, bot_for, running_simulator
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow
from workflows.payments import ReconcileStarsWorkflow, TopUpWorkflow

SECRET = "test-order-secret"
ADMIN = 900
PACKAGES = load_packages()


@dataclass
class Money:
    env: WorkflowEnvironment
    sim: TelegramSimulator
    bot: Bot
    pool: asyncpg.Pool
    queue: str

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.pool)

    async def new_user(self, credits: int = 0) -> int:
        user_id = uuid.uuid4().int % 10**8 + 10_000
        self.sim.add_user(user_id, first_name="Buyer", language_code="en")
        await self.ledger.ensure_user(user_id, language="en")
        if credits:
            await self.ledger.credit(user_id, credits, key=f"seed:{user_id}", kind="topup")
        return user_id

    async def pay(self, user_id: int, package_id: str = "s50", *, payload: str | None = None):
        """The user pays an invoice for ``package_id`` in Telegram; returns the successful_payment."""
        package = PACKAGES.get(package_id)
        assert package is not None
        payload = payload or make_order_reference(SECRET, package.id, user_id, int(time.time()) + 3600)
        invoice = await self.bot.send_invoice(
            user_id,
            title=f"{package.credits} credits",
            description="Top-up",
            payload=payload,
            currency="XTR",
            prices=[LabeledPrice(label="Credits", amount=package.stars)],
        )
        self.sim.pay(user_id, invoice.message_id)
        updates = await self.bot.get_updates(timeout=2)
        query = next(u.pre_checkout_query for u in updates if u.pre_checkout_query)
        await self.bot.answer_pre_checkout_query(query.id, ok=True)
        offset = updates[-1].update_id + 1
        paid = await self.bot.get_updates(offset=offset, timeout=2)
        await self.bot.get_updates(offset=paid[-1].update_id + 1, timeout=0)  # confirm them
        payment = next(
            u.message.successful_payment for u in paid if u.message and u.message.successful_payment
        )
        return payment


@pytest.fixture
async def money(db_pool: asyncpg.Pool) -> AsyncIterator[Money]:
    """On the time-skipping server."""
    async with (
        await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=temporal_test_server()
        ) as env,
        money_world(env, db_pool) as world,
    ):
        yield world


@pytest.fixture
async def money_dev(db_pool: asyncpg.Pool, temporal_dev: WorkflowEnvironment) -> AsyncIterator[Money]:
    """On the dev server: ID conflict policies (USE_EXISTING) as production has them."""
    async with money_world(temporal_dev, db_pool) as world:
        yield world


@asynccontextmanager
async def money_world(env: WorkflowEnvironment, db_pool: asyncpg.Pool) -> AsyncIterator[Money]:
    # Real charge ids are unique; a seeded simulator repeats them, and tests share one dev server.
    seed = uuid.uuid4().int % 2**31
    async with running_simulator(SimulatorConfig(token=TEST_TOKEN, seed=seed)) as sim:
        bot = bot_for(sim)
        sim.add_user(ADMIN, first_name="Admin")
        ledger = Ledger(db_pool)
        payments = PaymentActivities(
            ledger,
            Payments(db_pool),
            Referrals(db_pool),
            AdminAudit(db_pool),
            PACKAGES,
            order_secret=SECRET,
        )
        admin = AdminActivities(ledger, Generations(db_pool), AdminAudit(db_pool))
        notices = NoticeActivities(bot, ledger, admin_ids=[ADMIN])
        stars = StarsActivities(bot, Payments(db_pool))
        queue = f"money-{uuid.uuid4().hex[:6]}"
        # As in production: money on the main queue, what calls Telegram on the Telegram worker's queue.
        telegram_worker = Worker(
            env.client,
            task_queue=telegram_task_queue(queue),
            activities=[
                notices.notify_topup,
                notices.notify_refund,
                notices.notify_admins,
                stars.find_uncredited_star_payments,
                stars.refund_stars,
            ],
        )
        worker = Worker(
            env.client,
            task_queue=queue,
            workflows=[
                TopUpWorkflow,
                ReconcileStarsWorkflow,
                RefundTopUpWorkflow,
                AdjustCreditsWorkflow,
                RefundGenerationWorkflow,
            ],
            activities=[
                payments.credit_topup,
                payments.reserve_topup_refund,
                payments.complete_topup_refund,
                payments.cancel_topup_refund,
                admin.adjust_credits,
                admin.refund_generation,
            ],
        )
        async with worker, telegram_worker:
            yield Money(env, sim, bot, db_pool, queue)
        await bot.session.close()
