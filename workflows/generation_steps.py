"""The generation's steps: each activity call with its timeouts, retries and queue, in one place.

``workflows.generation`` decides what happens; these say how each step runs. Validate, hold, queue places,
status checks and settling are local activities: they touch only PostgreSQL or ask KIE one question, so they
run in the worker that runs the workflow, without a task queue round trip (docs/design.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeAlias

from temporalio import workflow
from temporalio.common import Priority
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.models import (
        DeliverInput,
        DeliveryOutcome,
        HoldInput,
        HoldOutcome,
        NotifyInput,
        PrepareInput,
        QueueInput,
        QueuePlace,
        SettleInput,
        SubmitInput,
        SubmitOutcome,
        ValidatedGeneration,
        ValidateInput,
    )
    from contracts.queues import kie_task_queue, telegram_task_queue
    from workflows.policies import (
        DELIVER_RETRY,
        KIE_RETRY,
        MONEY_RETRY,
        QUICK_RETRY,
        STATUS_MESSAGE_RETRY,
        UPLOAD_RETRY,
    )

Inputs: TypeAlias = dict[str, Any]  # a generation's inputs by name, as the catalog validated them
SubmitHandle: TypeAlias = workflow.ActivityHandle[SubmitOutcome]  # the submit a cancel may interrupt


async def validate(data: ValidateInput) -> ValidatedGeneration:
    return await workflow.execute_local_activity(
        activities.validate_generation,
        data,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=QUICK_RETRY,
        schedule_to_close_timeout=timedelta(minutes=10),
        summary="validate inputs and price",
    )


async def hold(data: HoldInput) -> HoldOutcome:
    return await workflow.execute_local_activity(
        activities.hold_credits,
        data,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=MONEY_RETRY,
        schedule_to_close_timeout=timedelta(minutes=30),
        summary="hold credits",
    )


def prepare(data: PrepareInput) -> workflow.ActivityHandle[Inputs]:
    """Upload the user's media to KIE (a handle: a cancel interrupts it)."""
    return workflow.start_activity(
        activities.prepare_inputs,
        data,
        task_queue=telegram_task_queue(workflow.info().task_queue),
        start_to_close_timeout=timedelta(minutes=5),
        heartbeat_timeout=timedelta(seconds=30),
        retry_policy=UPLOAD_RETRY,
        summary="upload the user's media to KIE",
    )


async def join_queue(data: QueueInput) -> QueuePlace:
    return await workflow.execute_local_activity(
        activities.join_queue,
        data,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=QUICK_RETRY,
        schedule_to_close_timeout=timedelta(minutes=10),
        summary="join the KIE submit queue",
    )


async def queue_place(data: QueueInput) -> QueuePlace:
    return await workflow.execute_local_activity(
        activities.queue_place,
        data,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=QUICK_RETRY,
        schedule_to_close_timeout=timedelta(minutes=5),
        summary="place in the KIE queue",
    )


def submit(data: SubmitInput, queue: QueuePlace | None) -> SubmitHandle:
    """Create the KIE task: dispatched fairly per user (``queue``'s fairness key and weight, its priority) at
    the rate all KIE keys allow together, server-side (worker.py)."""
    return workflow.start_activity(
        activities.submit_task,
        data,
        task_queue=kie_task_queue(workflow.info().task_queue),
        priority=Priority(
            priority_key=queue.priority_key,
            fairness_key=queue.fairness_key,
            fairness_weight=queue.fairness_weight,
        )
        if queue
        else Priority.default,
        start_to_close_timeout=timedelta(seconds=60),
        retry_policy=KIE_RETRY,
        # Covers the wait in the queue too: a surge of an hour still gets its turn.
        schedule_to_close_timeout=timedelta(hours=2) if queue else timedelta(minutes=30),
        # A cancel while queued must learn whether the submit already ran (a task costs money).
        cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        summary="create the KIE task",
    )


async def settle(data: SettleInput) -> None:
    """Exactly one of charge and release; retried for a week: money must move."""
    await workflow.execute_local_activity(
        activities.settle_credits,
        data,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=MONEY_RETRY,
        schedule_to_close_timeout=timedelta(days=7),
        summary="charge" if data.success else "release the hold",
    )


async def record_outcome(data: SettleInput) -> None:
    await workflow.execute_local_activity(
        activities.record_outcome,
        data,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=MONEY_RETRY,
        schedule_to_close_timeout=timedelta(days=1),
        summary="record the outcome",
    )


async def deliver(data: DeliverInput) -> DeliveryOutcome:
    return await workflow.execute_activity(
        activities.deliver_result,
        data,
        task_queue=telegram_task_queue(workflow.info().task_queue),
        start_to_close_timeout=timedelta(minutes=5),
        heartbeat_timeout=timedelta(minutes=1),
        retry_policy=DELIVER_RETRY,
        schedule_to_close_timeout=timedelta(hours=2),
        summary="send the result to the chat",
    )


async def notify(data: NotifyInput) -> None:
    """Edit the chat's status message (best effort: the caller ignores a failure)."""
    await workflow.execute_activity(
        activities.notify_status,
        data,
        task_queue=telegram_task_queue(workflow.info().task_queue),
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=STATUS_MESSAGE_RETRY,
        summary=f"status message: {data.stage.value}",
    )


def failure_text(err: ActivityError) -> str:
    """What a failed step says, for the generation's row and operators."""
    cause = err.cause
    return str(cause.message if cause is not None and hasattr(cause, "message") else err)
