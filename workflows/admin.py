"""Admin actions as workflows: who did it and why is recorded, and each moves money exactly once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.money import (
        AdjustCreditsRequest,
        AdminResult,
        AdminStep,
        RefundGenerationRequest,
        RefundNotice,
        RefundTopUpRequest,
        RefundTopUpStep,
    )
    from contracts.queues import telegram_task_queue
    from workflows.policies import MONEY_RETRY, NOTICE_RETRY, TELEGRAM_RETRY

Step = TypeVar("Step")
Result = TypeVar("Result")


def _money(activity: Callable[[Step], Awaitable[Result]], arg: Step, summary: str) -> Awaitable[Result]:
    return workflow.execute_activity(
        activity,
        arg,
        start_to_close_timeout=timedelta(seconds=15),
        retry_policy=MONEY_RETRY,
        schedule_to_close_timeout=timedelta(days=1),
        summary=summary,
    )


@workflow.defn
class AdjustCreditsWorkflow:
    @workflow.run
    async def run(self, request: AdjustCreditsRequest) -> AdminResult:
        step = AdminStep(workflow_id=workflow.info().workflow_id, adjust=request)
        result = await _money(
            activities.adjust_credits, step, f"adjust {request.amount:+d} for user {request.user_id}"
        )
        workflow.set_current_details(f"**{result.outcome}** by admin {request.admin_id}: {request.reason}")
        return result


@workflow.defn
class RefundGenerationWorkflow:
    @workflow.run
    async def run(self, request: RefundGenerationRequest) -> AdminResult:
        step = AdminStep(workflow_id=workflow.info().workflow_id, refund_generation=request)
        result = await _money(activities.refund_generation, step, f"refund {request.generation_id}")
        workflow.set_current_details(f"**{result.outcome}** by admin {request.admin_id}: {request.reason}")
        if result.outcome == "done" and result.user_id is not None:
            try:
                await workflow.execute_activity(
                    activities.notify_refund,
                    RefundNotice(user_id=result.user_id, credits=result.amount),
                    task_queue=telegram_task_queue(workflow.info().task_queue),
                    start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=NOTICE_RETRY,
                    summary="tell the user",
                )
            except ActivityError:
                workflow.logger.warning("refund notice not sent")  # the refund stands either way
        return result


@workflow.defn
class RefundTopUpWorkflow:
    """Refund a Stars payment: reserve the credits it granted, refund the Stars, then reverse the credits.

    Credits already spent: refused before any Star moves (the admin sees the shortfall and decides, e.g. an
    adjustment first). Balances never go negative; the ledger's CHECK constraints would refuse it anyway.
    """

    @workflow.run
    async def run(self, request: RefundTopUpRequest) -> AdminResult:
        step = RefundTopUpStep(workflow_id=workflow.info().workflow_id, request=request)
        reserved = await _money(activities.reserve_topup_refund, step, "reserve the credits")
        if reserved.outcome != "reserved":
            outcome: Literal["already_done", "refused"] = (
                "already_done" if reserved.outcome == "already_refunded" else "refused"
            )
            detail = reserved.outcome + (
                f": {reserved.shortfall} credits short" if reserved.shortfall else ""
            )
            result = AdminResult(
                outcome=outcome,
                detail=detail,
                user_id=reserved.user_id,
                shortfall=reserved.shortfall or None,
            )
            return await self._finish(step, result)
        try:
            await workflow.execute_activity(
                activities.refund_stars,
                step,
                task_queue=telegram_task_queue(workflow.info().task_queue),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=TELEGRAM_RETRY,
                summary="refundStarPayment",
            )
        except ActivityError as err:
            await _money(activities.cancel_topup_refund, step, "release the reserved credits")
            detail = f"Telegram refused the refund: {err.cause or err}"
            return await self._finish(
                step, AdminResult(outcome="refused", detail=detail, user_id=reserved.user_id)
            )
        result = await _money(activities.complete_topup_refund, step, "reverse the credits")
        return await self._finish(step, result)

    async def _finish(self, step: RefundTopUpStep, result: AdminResult) -> AdminResult:
        workflow.set_current_details(
            f"**{result.outcome}** by admin {step.request.admin_id}: {step.request.reason}"
            + (f"\n\n{result.detail}" if result.detail else "")
        )
        return result
