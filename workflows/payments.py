"""Top-ups with Telegram Stars, and the reconciliation that catches payments whose update was lost."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.ids import topup_id
    from contracts.money import (
        AdminNotice,
        ReconcileInput,
        ReconcileResult,
        TopUpNotice,
        TopUpRequest,
        TopUpResult,
    )
    from contracts.queues import telegram_task_queue
    from workflows.policies import MONEY_RETRY, NOTICE_RETRY, SCHEDULED_CHECK_RETRY


@workflow.defn
class TopUpWorkflow:
    """Credits a paid invoice exactly once, however often the update arrives, and tells the user."""

    @workflow.run
    async def run(self, request: TopUpRequest) -> TopUpResult:
        result = await workflow.execute_activity(
            activities.credit_topup,
            request,
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=MONEY_RETRY,
            schedule_to_close_timeout=timedelta(days=7),
            summary="credit the payment",
        )
        workflow.set_current_details(
            f"**{result.outcome}** — {result.credits} credits"
            + (f", referral bonus {result.referral_bonus}" if result.referral_bonus else "")
            + (f"\n\n{result.detail}" if result.detail else "")
        )
        if result.outcome == "unmatched":
            if result.report_to_admins:
                await _tell_admins(f"Stars payment {request.charge_id} could not be matched: {result.detail}")
            return result
        if result.balance_after is not None:
            try:
                await workflow.execute_activity(
                    activities.notify_topup,
                    TopUpNotice(
                        user_id=request.user_id,
                        chat_id=request.chat_id,
                        language=request.language,
                        credits=result.credits,
                        balance_after=result.balance_after,
                    ),
                    task_queue=telegram_task_queue(workflow.info().task_queue),
                    start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=NOTICE_RETRY,
                    summary="tell the user",
                )
            except ActivityError:
                workflow.logger.warning("top-up notice not sent")  # the credits are there either way
        return result


@workflow.defn
class ReconcileStarsWorkflow:
    """Run on a Schedule: credits any paid charge whose update never reached us, reports the strangers."""

    @workflow.run
    async def run(self, data: ReconcileInput) -> ReconcileResult:
        payments = await workflow.execute_activity(
            activities.find_uncredited_star_payments,
            data,
            task_queue=telegram_task_queue(workflow.info().task_queue),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=SCHEDULED_CHECK_RETRY,
            summary="read getStarTransactions",
        )
        result = ReconcileResult(checked=len(payments))
        for payment in payments:
            request = TopUpRequest(
                user_id=payment.user_id,
                chat_id=payment.user_id,
                charge_id=payment.charge_id,
                total_amount=payment.amount,
                invoice_payload=payment.payload,
                source="reconciliation",
            )
            try:
                # The same id as the update's workflow: whichever comes first credits, the other attaches.
                await workflow.start_child_workflow(
                    TopUpWorkflow.run,
                    request,
                    id=topup_id(payment.charge_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    static_summary=f"top-up {payment.charge_id} (reconciliation)",
                )
                result.started.append(payment.charge_id)
            except WorkflowAlreadyStartedError:
                continue
        workflow.set_current_details(f"checked {result.checked}, started {len(result.started)}")
        return result


async def _tell_admins(text: str) -> None:
    try:
        await workflow.execute_activity(
            activities.notify_admins,
            AdminNotice(text=text),
            task_queue=telegram_task_queue(workflow.info().task_queue),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=NOTICE_RETRY,
            summary="tell the admins",
        )
    except ActivityError:
        workflow.logger.error("admins not notified: %s", text)
