"""The Temporal worker: `python worker.py`.

Two task queues: the main one (workflows and most activities) and `<queue>-kie`, where KIE submits are
rate-limited server-side to the account's limit across every worker. SIGTERM drains: in-flight activities
get the grace period to finish, then are retried elsewhere.

Operations: the SDK's Prometheus metrics on WORKER_METRICS_PORT (any path, e.g. /metrics); log records
emitted inside an activity carry its ``workflow_id``; the KIE credits check runs on a Temporal Schedule
created here at start (idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from activities.admin import AdminActivities
from activities.catalog import CatalogActivities
from activities.kie import KieActivities
from activities.ledger import LedgerActivities
from activities.media import MediaActivities
from activities.operations import OperationsActivities
from activities.payments import PaymentActivities
from activities.telegram import TelegramActivities
from billing import load_packages
from catalog import get_catalog
from db import AdminAudit, Generations, Ledger, Payments, Referrals, create_pool
from genflow.logs import setup_process_logging
from genflow.metrics import temporal_runtime
from genflow.settings import Settings, get_settings
from genflow.temporal import connect_temporal
from kie.client import KieClient
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow
from workflows.generation import GenerationWorkflow, kie_task_queue
from workflows.kie_credits import KieCreditsWorkflow, ensure_kie_credits_schedule
from workflows.payments import ReconcileStarsWorkflow, TopUpWorkflow
from workflows.schedules import ensure_reconcile_schedule

WORKFLOWS = [
    GenerationWorkflow,
    KieCreditsWorkflow,
    TopUpWorkflow,
    ReconcileStarsWorkflow,
    AdjustCreditsWorkflow,
    RefundGenerationWorkflow,
    RefundTopUpWorkflow,
]

log = logging.getLogger("worker")
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


class ActivityContextFilter(logging.Filter):
    """Adds ``workflow_id`` (and the activity's name) to records logged inside an activity.

    Activities log with plain module loggers; the activity's context is a contextvar of the task running it,
    so this filter, running synchronously in that task, can read it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if activity.in_activity() and not hasattr(record, "workflow_id"):
            info = activity.info()
            record.workflow_id = info.workflow_id
            record.activity = info.activity_type
        return True


def make_bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token is not None
    session = AiohttpSession()
    if settings.telegram_api_base is not None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(str(settings.telegram_api_base).rstrip("/")))
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


@contextlib.asynccontextmanager
async def workers(settings: Settings, client: Client) -> AsyncIterator[list[Worker]]:
    """Both workers with every activity wired to its clients; the clients close when the workers stop."""
    assert settings.database_url and settings.kie_api_key and settings.callback_secret
    pool = await create_pool(
        settings.database_url, min_size=settings.database_pool_min, max_size=settings.database_pool_max
    )
    catalog = get_catalog()
    generations = Generations(pool)
    bot = make_bot(settings)
    # No retries inside the HTTP clients: Temporal retries activities.
    async with aiohttp.ClientSession() as kie_http, aiohttp.ClientSession() as downloads:
        kie = KieClient(
            kie_http,
            base_url=str(settings.kie_base_url),
            upload_base_url=str(settings.kie_upload_base_url),
            api_key=settings.kie_api_key.get_secret_value(),
        )
        kie_activities = KieActivities(
            kie,
            catalog,
            generations,
            public_base_url=str(settings.public_base_url),
            callback_secret=settings.callback_secret.get_secret_value(),
        )
        ledger = Ledger(pool)
        ledger_activities = LedgerActivities(ledger, generations)
        audit = AdminAudit(pool)
        payments = PaymentActivities(
            ledger,
            Payments(pool),
            Referrals(pool),
            audit,
            bot,
            load_packages(),
            order_secret=settings.callback_secret.get_secret_value(),
            admin_ids=settings.admin_ids,
        )
        admin = AdminActivities(ledger, generations, audit, bot)
        telegram = TelegramActivities(bot, generations, downloads, catalog)
        operations = OperationsActivities(
            kie, bot, threshold=settings.kie_credits_alert_threshold, admin_ids=settings.admin_ids
        )
        main = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=WORKFLOWS,
            activities=[
                CatalogActivities(catalog, generations).validate_generation,
                ledger_activities.hold_credits,
                ledger_activities.settle_credits,
                ledger_activities.record_outcome,
                MediaActivities(bot, kie).prepare_inputs,
                kie_activities.check_task,
                telegram.notify_status,
                telegram.deliver_result,
                operations.check_kie_credits,
                payments.credit_topup,
                payments.notify_topup,
                payments.find_uncredited_star_payments,
                payments.notify_admins,
                payments.reserve_topup_refund,
                payments.refund_stars,
                payments.complete_topup_refund,
                payments.cancel_topup_refund,
                admin.adjust_credits,
                admin.refund_generation,
            ],
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
        submits = Worker(
            client,
            task_queue=kie_task_queue(settings.temporal_task_queue),
            activities=[kie_activities.submit_task],
            # Server-side, across all workers: KIE allows N new tasks per period per account.
            max_task_queue_activities_per_second=settings.kie_rate_limit_tasks
            / settings.kie_rate_limit_period_seconds,
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
        try:
            yield [main, submits]
        finally:
            await bot.session.close()
            await pool.close()


async def main() -> None:
    settings = get_settings()
    settings.require("database_url", "kie_api_key", "callback_secret", "telegram_bot_token")
    setup_process_logging("worker", settings, filters=[ActivityContextFilter()])
    # Handlers first: a SIGTERM during start-up must stop us cleanly, not kill us mid-connect.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if settings.log_json:
        # The workflow_id is a field of its own in JSON lines: no need to repeat the info in the message.
        workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False
    client = await connect_temporal(settings, runtime=temporal_runtime(settings.worker_metrics_port))
    if await ensure_kie_credits_schedule(client, settings.temporal_task_queue):
        log.info("created the KIE credits schedule")
    await ensure_reconcile_schedule(
        client,
        task_queue=settings.temporal_task_queue,
        every=timedelta(minutes=settings.reconcile_interval_minutes),
    )
    async with workers(settings, client) as (main_worker, submit_worker):
        async with main_worker, submit_worker:
            log.info("worker polling %s and %s", main_worker.task_queue, submit_worker.task_queue)
            await stop.wait()
            log.info("draining: in-flight activities get %ss", GRACEFUL_SHUTDOWN.total_seconds())
            # Both at once: the whole drain takes one grace period, not one per worker.
            await asyncio.gather(main_worker.shutdown(), submit_worker.shutdown())
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # see temporal/NOTES: avoid the SDK's interpreter-exit crash
