"""Temporal Schedules this project runs, created idempotently when a worker starts."""

from __future__ import annotations

from datetime import timedelta

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

from workflows.money_models import ReconcileInput
from workflows.payments import ReconcileStarsWorkflow

RECONCILE_SCHEDULE_ID = "reconcile-stars"


async def ensure_reconcile_schedule(client: Client, *, task_queue: str, every: timedelta) -> None:
    """Reconcile Stars payments every ``every``; a no-op when the schedule already exists."""
    try:
        await client.create_schedule(
            RECONCILE_SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    ReconcileStarsWorkflow.run,
                    ReconcileInput(),
                    id="reconcile-stars-run",
                    task_queue=task_queue,
                    execution_timeout=every,
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                # A slow run must not pile up behind itself.
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        pass
