"""The Temporal worker: `python worker.py`. Workflows, and the activities that touch PostgreSQL or KIE.

Two task queues: the main one (every workflow; validation, the ledger, KIE status checks) and `<queue>-kie`,
where KIE submits are rate-limited server-side to the account's limit across every worker. What calls the
Telegram Bot API runs in `telegram_worker.py` on `<queue>-telegram`: this process never imports aiogram, so
the memory it spends is the workflows it caches (docs/performance.md). SIGTERM drains: in-flight
activities get the grace period to finish, then are retried elsewhere.

Operations: the SDK's Prometheus metrics on WORKER_METRICS_PORT (any path, e.g. /metrics); log records
emitted inside an activity carry its ``workflow_id``; the KIE credits check and the Stars reconciliation run
on Temporal Schedules created here at start (idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
from temporalio.client import Client
from temporalio.worker import Worker

from activities.admin import AdminActivities
from activities.catalog import CatalogActivities
from activities.kie import KieActivities
from activities.ledger import LedgerActivities
from activities.payments import PaymentActivities
from billing import load_packages
from catalog import get_catalog
from db import AdminAudit, Generations, Ledger, Payments, Referrals, create_pool
from genflow.settings import Settings, get_settings
from genflow.worker_runtime import GRACEFUL_SHUTDOWN, ActivityContextFilter, kie_client, serve
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow
from workflows.generation import GenerationWorkflow
from workflows.kie_credits import KieCreditsWorkflow, ensure_kie_credits_schedule
from workflows.payments import ReconcileStarsWorkflow, TopUpWorkflow
from workflows.queues import kie_task_queue
from workflows.schedules import ensure_reconcile_schedule

__all__ = ["GRACEFUL_SHUTDOWN", "WORKFLOWS", "ActivityContextFilter", "main", "workers"]

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


@contextlib.asynccontextmanager
async def workers(settings: Settings, client: Client) -> AsyncIterator[list[Worker]]:
    """The main and the KIE-submit workers, every activity wired to its clients; clients close after."""
    assert settings.database_url and settings.kie_api_key and settings.callback_secret
    pool = await create_pool(
        settings.database_url, min_size=settings.database_pool_min, max_size=settings.database_pool_max
    )
    catalog = get_catalog()
    generations = Generations(pool)
    ledger = Ledger(pool)
    audit = AdminAudit(pool)
    # No retries inside the HTTP client: Temporal retries activities.
    async with aiohttp.ClientSession() as kie_http:
        kie_activities = KieActivities(
            kie_client(settings, kie_http),
            catalog,
            generations,
            public_base_url=str(settings.public_base_url),
            callback_secret=settings.callback_secret.get_secret_value(),
        )
        ledger_activities = LedgerActivities(ledger, generations)
        payments = PaymentActivities(
            ledger,
            Payments(pool),
            Referrals(pool),
            audit,
            load_packages(),
            order_secret=settings.callback_secret.get_secret_value(),
        )
        admin = AdminActivities(ledger, generations, audit)
        main = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=WORKFLOWS,
            activities=[
                CatalogActivities(catalog, generations).validate_generation,
                ledger_activities.hold_credits,
                ledger_activities.settle_credits,
                ledger_activities.record_outcome,
                kie_activities.check_task,
                payments.credit_topup,
                payments.reserve_topup_refund,
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
            await pool.close()


async def ensure_schedules(settings: Settings, client: Client) -> None:
    if await ensure_kie_credits_schedule(client, settings.temporal_task_queue):
        log.info("created the KIE credits schedule")
    await ensure_reconcile_schedule(
        client,
        task_queue=settings.temporal_task_queue,
        every=timedelta(minutes=settings.reconcile_interval_minutes),
    )


async def main() -> None:
    settings = get_settings()
    settings.require("database_url", "kie_api_key", "callback_secret")
    await serve(
        "worker",
        settings,
        workers,
        metrics_port=settings.worker_metrics_port,
        before=lambda client: ensure_schedules(settings, client),
    )


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # see temporal/NOTES: avoid the SDK's interpreter-exit crash
