"""AdminAlertWorkflow: one message to every admin, from a process that has no Bot (the workflow worker).

Started by an activity that noticed something operators must act on (a KIE key refused); the Telegram
worker sends it. A workflow rather than a direct call so the alert survives a Telegram hiccup and shows in
the Temporal UI under its summary.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.money import AdminNotice
    from contracts.queues import telegram_task_queue
    from workflows.policies import ALERT_RETRY


@workflow.defn
class AdminAlertWorkflow:
    @workflow.run
    async def run(self, notice: AdminNotice) -> None:
        await workflow.execute_activity(
            activities.notify_admins,
            notice,
            task_queue=telegram_task_queue(workflow.info().task_queue),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ALERT_RETRY,
            schedule_to_close_timeout=timedelta(hours=6),
            summary="message every admin",
        )
