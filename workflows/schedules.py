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

from contracts.ids import KIE_CREDITS_SCHEDULE_ID, RECONCILE_SCHEDULE_ID
from contracts.money import ReconcileInput
from workflows.kie_credits import KieCreditsWorkflow
from workflows.payments import ReconcileStarsWorkflow

KIE_CREDITS_INTERVAL = timedelta(minutes=15)


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
