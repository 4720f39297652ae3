"""The Telegram worker: `python telegram_worker.py`. Every activity that calls the Telegram Bot API.

One task queue, `<queue>-telegram`, rate-limited server-side to TELEGRAM_RATE_LIMIT_PER_SECOND across every
Telegram worker (Telegram allows a bot about 30 messages a second). It holds the aiogram ``Bot`` and
so aiogram's ≈160 MB; the workflow worker (`worker.py`) does not. Activities: the status message and the
delivery of results, the user's media fetched from Telegram and uploaded to KIE, money notices,
getStarTransactions and refundStarPayment, and the KIE credits check (it messages the admins).

Metrics on TELEGRAM_WORKER_METRICS_PORT; stops like the main worker (SIGTERM drains for 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
from temporalio.client import Client
from temporalio.worker import Worker

from activities.kie import SubmitLimits
from activities.media import MediaActivities
from activities.notices import NoticeActivities
from activities.operations import OperationsActivities
from activities.recipe_messages import RecipeMessages
from activities.stars import StarsActivities
from activities.telegram import TelegramActivities
from catalog import get_catalog
from contracts.queues import telegram_task_queue
from db import Generations, KieKeys, Ledger, Payments, create_pool
from genflow.settings import Settings, get_settings
from genflow.telegram import make_bot
from genflow.worker_runtime import GRACEFUL_SHUTDOWN, kie_accounts, serve


@contextlib.asynccontextmanager
async def workers(settings: Settings, client: Client) -> AsyncIterator[list[Worker]]:
    """The Telegram worker with its Bot, pool and HTTP sessions; they close when it stops."""
    assert settings.database_url and settings.kie_keys and settings.telegram_bot_token
    # Few statements per activity here (the delivery's file ids, a user's language): a small pool.
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.database_pool_max)
    catalog = get_catalog()
    bot = make_bot(settings)
    # No retries inside the HTTP clients: Temporal retries activities.
    async with aiohttp.ClientSession() as kie_http, aiohttp.ClientSession() as downloads:
        accounts = kie_accounts(settings, kie_http)
        kie = accounts.client(accounts.ids[0])  # uploads: any account can read what another uploaded
        telegram = TelegramActivities(bot, Generations(pool), downloads, catalog)
        notices = NoticeActivities(bot, Ledger(pool), admin_ids=settings.admin_ids)
        stars = StarsActivities(bot, Payments(pool))
        limits = SubmitLimits.from_settings(settings)
        operations = OperationsActivities(
            accounts,
            bot,
            threshold=settings.kie_credits_alert_threshold,
            admin_ids=settings.admin_ids,
            keys=KieKeys(pool),
            rate=limits.rate,
            task_queue=settings.temporal_task_queue,
        )
        worker = Worker(
            client,
            task_queue=telegram_task_queue(settings.temporal_task_queue),
            activities=[
                telegram.notify_status,
                telegram.deliver_result,
                MediaActivities(bot, kie, catalog).prepare_inputs,
                notices.notify_topup,
                notices.notify_refund,
                notices.notify_admins,
                stars.find_uncredited_star_payments,
                stars.refund_stars,
                operations.check_kie_credits,
                RecipeMessages(bot, catalog).notify_recipe,
            ],
            max_task_queue_activities_per_second=settings.telegram_rate_limit_per_second,
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
        try:
            yield [worker]
        finally:
            await bot.session.close()
            await pool.close()


async def main() -> None:
    settings = get_settings()
    settings.require("database_url", "kie_keys", "telegram_bot_token")
    await serve("telegram-worker", settings, workers, metrics_port=settings.telegram_worker_metrics_port)


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # see temporal/NOTES: avoid the SDK's interpreter-exit crash
