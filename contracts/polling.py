"""Polling KIE for a generation's outcome: the schedule and what counts as news, shared by the workflow
(which waits for a callback first) and the ``poll_tasks`` activity (which Temporal retries on the schedule).

A waiting generation costs its worker nothing until there is news: "still running" is a retryable,
benign failure whose retry Temporal schedules server-side, so no workflow task runs (and no evicted
history is replayed) between polls. News is a final state, or progress moved on by a step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from contracts.models import PollInput, StatusInput, TaskCheck

# Without a callback we poll on a widening schedule: KIE's callbacks can be lost.
POLL_SCHEDULE = (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5))
# The chat's progress moves in steps of this much: each step costs the workflow a task (and Telegram an edit).
PROGRESS_STEP = 0.1
STILL_RUNNING = "KieStillRunning"


def poll_delay(polls_done: int) -> timedelta:
    """How long to wait before the next poll when ``polls_done`` found nothing."""
    return POLL_SCHEDULE[min(polls_done, len(POLL_SCHEDULE) - 1)]


def news(checks: list[TaskCheck], shown_progress: float | None) -> TaskCheck | None:
    """The first success; a failure when every task failed; progress a step past ``shown_progress``;
    otherwise None (keep polling)."""
    for check in checks:
        if check.state == "succeeded":
            return check
    failures = [check for check in checks if check.state == "failed"]
    if failures and len(failures) == len(checks):
        return failures[0]
    running = [check for check in checks if check.state != "failed"]
    furthest = max(running, key=lambda check: check.progress or 0.0, default=None)
    if furthest and (furthest.progress or 0.0) >= (shown_progress or 0.0) + PROGRESS_STEP:
        return furthest
    return None


def still_running(polls_done: int) -> ApplicationError:
    """The poll activity's "nothing yet": retried by Temporal after the schedule's next delay, logged at
    DEBUG only (benign)."""
    return ApplicationError(
        "KIE: the task is still running",
        type=STILL_RUNNING,
        category=ApplicationErrorCategory.BENIGN,
        next_retry_delay=poll_delay(polls_done),
    )


async def poll(data: PollInput, check: Callable[[StatusInput], Awaitable[TaskCheck]]) -> TaskCheck:
    """One attempt of the ``poll_tasks`` activity: ``check`` (the ``check_task`` activity's code) on every
    task; news is returned, nothing new raises :func:`still_running` for the next attempt."""
    attempt = activity.info().attempt
    checks = [
        await check(
            StatusInput(
                generation_id=data.generation_id,
                model_id=data.model_id,
                task_id=task_id,
                key_id=data.keys.get(task_id),
            )
        )
        for task_id in data.task_ids
    ]
    found = news(checks, data.shown_progress)
    if found is None:
        raise still_running(data.polls_before + attempt)
    return found.model_copy(update={"polls": attempt})
