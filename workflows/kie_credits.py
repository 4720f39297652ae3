"""KieCreditsWorkflow: one look at the KIE account's credits, started by a Temporal Schedule every 15 minutes.

Thin on purpose: the activity reads the balance, logs and messages the admins when it is low. The schedule
(created idempotently at worker start, see :func:`ensure_kie_credits_schedule`) skips a run while the
previous one is still going, so a slow KIE cannot pile checks up.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

from workflows.queues import telegram_task_queue

KIE_CREDITS_SCHEDULE_ID = "kie-credits"
KIE_CREDITS_INTERVAL = timedelta(minutes=15)


class KieCreditsCheck(BaseModel):
    """What one check found: the balance, the threshold it was compared with, whom it alerted."""

    credits: int
    threshold: int
    low: bool
    admins_alerted: int = 0
    admins_failed: int = 0
    refused: list[str] = []  # keys KIE refused (401/402): fingerprints, never the keys
    restored: list[str] = []  # keys put back into rotation by this check


@workflow.defn
class KieCreditsWorkflow:
    @workflow.run
    async def run(self) -> KieCreditsCheck:
        return await workflow.execute_activity(
            "check_kie_credits",
            result_type=KieCreditsCheck,
            # It messages the admins, so it runs where the Bot is: the Telegram worker.
            task_queue=telegram_task_queue(workflow.info().task_queue),
            start_to_close_timeout=timedelta(seconds=60),
            # KIE unreachable for a few minutes is not worth an alert of its own; the next run tries again.
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5),
            schedule_to_close_timeout=timedelta(minutes=10),
            summary="read KIE credits; alert admins when low",
        )


async def ensure_kie_credits_schedule(client: Client, task_queue: str) -> bool:
    """Create the schedule unless it exists; returns True when this call created it.

    Every worker calls this at start: the first one creates it, the others find it running. A changed
    interval needs ``temporal schedule update`` (or delete and restart a worker): see docs/runbook.md.
    """
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            KieCreditsWorkflow.run,
            id=KIE_CREDITS_SCHEDULE_ID,  # runs get "-<timestamp>" appended by the schedule
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=14),
            static_summary="KIE account credits check",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=KIE_CREDITS_INTERVAL)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(KIE_CREDITS_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True
