"""Admin money actions: credit adjustments and refunds of finished generations, audited. PostgreSQL only."""

from __future__ import annotations

from temporalio import activity

from contracts import activities as contract
from contracts.activities import implements
from contracts.money import AdminResult, AdminStep
from db import AdminAudit, Generations, InsufficientCredits, Ledger, RefundExceedsCharge


class AdminActivities:
    def __init__(self, ledger: Ledger, generations: Generations, audit: AdminAudit) -> None:
        self.ledger = ledger
        self.generations = generations
        self.audit = audit

    @implements(contract.adjust_credits)
    async def adjust_credits(self, step: AdminStep) -> AdminResult:
        request = step.adjust
        assert request is not None
        if request.amount == 0:
            return await self._done(
                step, "adjust", str(request.user_id), AdminResult(outcome="refused", detail="zero amount")
            )
        await self.ledger.ensure_user(request.user_id)
        key = f"admin-adjust:{step.workflow_id}"
        metadata = {"admin_id": request.admin_id, "workflow_id": step.workflow_id}
        try:
            if request.amount > 0:
                movement = await self.ledger.credit(
                    request.user_id,
                    request.amount,
                    key=key,
                    kind="adjustment",
                    reason=request.reason,
                    metadata=metadata,
                )
            else:
                movement = await self.ledger.debit(
                    request.user_id, -request.amount, key=key, reason=request.reason
                )
        except InsufficientCredits as err:
            result = AdminResult(
                outcome="refused", user_id=request.user_id, detail=f"only {err.available} credits available"
            )
            return await self._done(step, "adjust", str(request.user_id), result)
        result = AdminResult(
            outcome="already_done" if movement.replayed else "done",
            user_id=request.user_id,
            amount=request.amount,
            balance_after=movement.available_after,
        )
        return await self._done(step, "adjust", str(request.user_id), result)

    @implements(contract.refund_generation)
    async def refund_generation(self, step: AdminStep) -> AdminResult:
        request = step.refund_generation
        assert request is not None
        record = await self.generations.get(request.generation_id)
        if record is None:
            return await self._done(
                step,
                "refund_generation",
                request.generation_id,
                AdminResult(outcome="unknown", detail="no such generation"),
            )
        if record.status != "succeeded" or record.free or record.price <= 0:
            result = AdminResult(
                outcome="refused",
                user_id=record.user_id,
                detail=f"nothing was charged ({record.status}, free={record.free})",
            )
            return await self._done(step, "refund_generation", request.generation_id, result)
        try:
            movement = await self.ledger.refund(
                record.user_id,
                record.price,
                key=f"gen-refund:{record.id}",
                reason=request.reason,
                generation_id=record.id,
            )
        except RefundExceedsCharge as err:
            result = AdminResult(outcome="refused", user_id=record.user_id, detail=str(err))
            return await self._done(step, "refund_generation", request.generation_id, result)
        # The user is told by the workflow (notify_refund on the Telegram worker) when the outcome is "done".
        result = AdminResult(
            outcome="already_done" if movement.replayed else "done",
            user_id=record.user_id,
            amount=record.price,
            balance_after=movement.available_after,
        )
        return await self._done(step, "refund_generation", request.generation_id, result)

    async def _done(self, step: AdminStep, action: str, target: str, result: AdminResult) -> AdminResult:
        request = step.adjust or step.refund_generation
        assert request is not None
        await self.audit.record(
            workflow_id=step.workflow_id,
            run_id=activity.info().workflow_run_id or "",  # always set: these run in a workflow
            admin_id=request.admin_id,
            action=action,
            target=target,
            reason=request.reason,
            outcome=result.outcome,
            details=result.model_dump(exclude={"outcome"}, mode="json"),
        )
        return result
