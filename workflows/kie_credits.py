"""KieCreditsWorkflow: one look at the KIE account's credits, started by a Temporal Schedule every 15 minutes.

Thin on purpose: the activity reads the balance, logs and messages the admins when it is low. The schedule
(created idempotently at worker start, see ``workflows.schedules``) skips a run while the
previous one is still going, so a slow KIE cannot pile checks up.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from contracts import activities
from contracts.money import KieCreditsCheck
from contracts.queues import telegram_task_queue
from workflows.policies import SCHEDULED_CHECK_RETRY


@workflow.defn
class KieCreditsWorkflow:
    @workflow.run
    async def run(self) -> KieCreditsCheck:
        return await workflow.execute_activity(
            activities.check_kie_credits,
            # It messages the admins, so it runs where the Bot is: the Telegram worker.
            task_queue=telegram_task_queue(workflow.info().task_queue),
            start_to_close_timeout=timedelta(seconds=60),
            # KIE unreachable for a few minutes is not worth an alert of its own; the next run tries again.
            retry_policy=SCHEDULED_CHECK_RETRY,
            schedule_to_close_timeout=timedelta(minutes=10),
            summary="read KIE credits; alert admins when low",
        )
