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
from activities.kie import KieActivities, SubmitLimits
from activities.ledger import LedgerActivities
from activities.pacing import set_submit_rate
from activities.payments import PaymentActivities
from activities.queue import QueueActivities, QueuePolicy
from activities.recipes import RecipeActivities
from billing import load_packages
from catalog import get_catalog
from contracts.queues import kie_task_queue
from db import (
    AdminAudit,
    Generations,
    KieKeys,
    Ledger,
    ModelRejections,
    Payments,
    Referrals,
    SubmitQueue,
    create_pool,
)
from genflow.settings import Settings, get_settings
from genflow.worker_runtime import GRACEFUL_SHUTDOWN, ActivityContextFilter, kie_accounts, serve
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow
from workflows.alerts import AdminAlertWorkflow
from workflows.generation import GenerationWorkflow
from workflows.kie_credits import KieCreditsWorkflow
from workflows.payments import ReconcileStarsWorkflow, TopUpWorkflow
from workflows.recipe import RecipeWorkflow
from workflows.schedules import ensure_kie_credits_schedule, ensure_reconcile_schedule

__all__ = ["GRACEFUL_SHUTDOWN", "WORKFLOWS", "ActivityContextFilter", "main", "workers"]

WORKFLOWS = [
    GenerationWorkflow,
    KieCreditsWorkflow,
    TopUpWorkflow,
    ReconcileStarsWorkflow,
    AdjustCreditsWorkflow,
    RefundGenerationWorkflow,
    RefundTopUpWorkflow,
    AdminAlertWorkflow,
    RecipeWorkflow,
]

log = logging.getLogger("worker")


@contextlib.asynccontextmanager
async def workers(settings: Settings, client: Client) -> AsyncIterator[list[Worker]]:
    """The main and the KIE-submit workers, every activity wired to its clients; clients close after."""
    assert settings.database_url and settings.kie_keys and settings.callback_secret
    pool = await create_pool(
        settings.database_url, min_size=settings.database_pool_min, max_size=settings.database_pool_max
    )
    catalog = get_catalog()
    generations = Generations(pool)
    ledger = Ledger(pool)
    audit = AdminAudit(pool)
    limits = SubmitLimits.from_settings(settings)
    keys = KieKeys(pool)
    queue = QueueActivities(
        SubmitQueue(pool),
        QueuePolicy(
            paid_weight=settings.queue_paid_weight,
            min_refresh_seconds=settings.queue_status_min_interval_seconds,
            edits_per_second=settings.queue_status_edits_per_second,
        ),
    )
    # No retries inside the HTTP client: Temporal retries activities.
    async with aiohttp.ClientSession() as kie_http:
        accounts = kie_accounts(settings, kie_http)
        await keys.register(
            accounts.ids, tasks_per_period=limits.tasks_per_period, period_seconds=limits.period_seconds
        )
        active = len(await keys.active(accounts.ids))
        # The server's pacing for every worker: all active keys together (each key's own limit is exact in
        # KieKeys). Set through the task queue's config too, so a key leaving the rotation can lower it.
        rate = limits.rate(active)
        try:
            await set_submit_rate(client, settings.temporal_task_queue, rate, f"{active} KIE key(s)")
        except Exception as err:  # an older server without the config API: the worker option still paces
            log.warning("could not set the KIE queue's rate on the server: %s", err)
        log.info("KIE keys %s (%d active), submits paced at %.2f/s", accounts.ids, active, rate)
        kie_activities = KieActivities(
            accounts,
            catalog,
            generations,
            keys,
            ModelRejections(pool),
            limits=limits,
            public_base_url=str(settings.public_base_url),
            callback_secret=settings.callback_secret.get_secret_value(),
        )
        ledger_activities = LedgerActivities(ledger, generations, queue)
        payments = PaymentActivities(
            ledger,
            Payments(pool),
            Referrals(pool),
            audit,
            load_packages(),
            order_secret=settings.callback_secret.get_secret_value(),
        )
        admin = AdminActivities(ledger, generations, audit)
        recipes = RecipeActivities(catalog, ledger)
        main = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=WORKFLOWS,
            activities=[
                CatalogActivities(catalog, generations).validate_generation,
                ledger_activities.hold_credits,
                ledger_activities.settle_credits,
                ledger_activities.record_outcome,
                queue.join_queue,
                queue.queue_place,
                kie_activities.check_task,
                kie_activities.poll_tasks,
                payments.credit_topup,
                payments.reserve_topup_refund,
                payments.complete_topup_refund,
                payments.cancel_topup_refund,
                admin.adjust_credits,
                admin.refund_generation,
                recipes.price_recipe,
                recipes.hold_recipe,
                recipes.release_recipe,
            ],
            # Bounded: thousands of generations waiting for KIE must not grow the process without limit.
            max_cached_workflows=settings.worker_max_cached_workflows,
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
        submits = Worker(
            client,
            task_queue=kie_task_queue(settings.temporal_task_queue),
            activities=[kie_activities.submit_task],
            # Server-side, across all workers; the queue's config (above) overrides it when set.
            max_task_queue_activities_per_second=rate,
            # A few per key: the backlog stays in Temporal's fair queue, not in this process.
            max_concurrent_activities=max(4, 2 * limits.tasks_per_period * len(accounts.ids)),
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
    settings.require("database_url", "kie_keys", "callback_secret")
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
