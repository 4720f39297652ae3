"""Money in and back out: Stars top-ups, referral bonuses and the ledger side of top-up refunds.

Only PostgreSQL here; what calls Telegram (notices, getStarTransactions, refundStarPayment) is in
`activities/notices.py` and `activities/stars.py`, served by the Telegram worker.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio import activity

from billing import Packages, read_order_reference
from contracts import activities as contract
from contracts.activities import implements
from contracts.money import (
    AdminResult,
    RefundTopUpStep,
    ReservationOutcome,
    TopUpRequest,
    TopUpResult,
)
from db import AdminAudit, InsufficientCredits, Ledger, Payments, Referrals

log = logging.getLogger(__name__)


def refund_hold_key(charge_id: str) -> str:
    """Per run: a refund refused once (hold released) and asked for again reserves afresh."""
    return f"topup-refund-hold:{charge_id}:{activity.info().workflow_run_id}"


class PaymentActivities:
    def __init__(
        self,
        ledger: Ledger,
        payments: Payments,
        referrals: Referrals,
        audit: AdminAudit,
        packages: Packages,
        *,
        order_secret: str,
    ) -> None:
        self.ledger = ledger
        self.payments = payments
        self.referrals = referrals
        self.audit = audit
        self.packages = packages
        self.order_secret = order_secret

    # ---- top-up ---------------------------------------------------------------------------------------
    @implements(contract.credit_topup)
    async def credit_topup(self, request: TopUpRequest) -> TopUpResult:
        order = read_order_reference(self.order_secret, request.invoice_payload)
        if order is None:
            return await self._unmatched(request, "the invoice payload is not one of our orders")
        package = self.packages.get(order.package_id)
        problems = []
        if package is None:
            problems.append(f"unknown package {order.package_id!r}")
        elif request.total_amount != package.stars:
            problems.append(f"paid {request.total_amount} Stars, package {package.id} costs {package.stars}")
        if request.currency != "XTR":
            problems.append(f"currency {request.currency}")
        if order.user_id != request.user_id:
            problems.append("paid by another user than the order's")
        if problems or package is None:
            return await self._unmatched(request, "; ".join(problems))

        await self.ledger.ensure_user(request.user_id)
        movement = await self.ledger.record_payment(
            request.user_id,
            telegram_payment_charge_id=request.charge_id,
            stars=request.total_amount,
            credits=package.credits,
            payload=request.invoice_payload,
        )
        bonus = await self._referral_bonus(request, package.credits)
        await self.payments.annotate(request.charge_id, source=request.source, referral_bonus=bonus)
        log.info(
            "top-up credited", extra={"workflow_id": activity.info().workflow_id, "credits": package.credits}
        )
        return TopUpResult(
            outcome="credited",
            credits=package.credits,
            balance_after=movement.available_after,
            referral_bonus=bonus,
            replayed=movement.replayed,
        )

    async def _unmatched(self, request: TopUpRequest, detail: str) -> TopUpResult:
        # Not credited: the admins settle it by hand. Recorded, so reconciliation reports it only once.
        first = await self.payments.record_unmatched(
            request.charge_id,
            user_id=request.user_id,
            stars=request.total_amount,
            payload=request.invoice_payload,
            detail=detail,
        )
        return TopUpResult(outcome="unmatched", detail=detail, report_to_admins=first)

    async def _referral_bonus(self, request: TopUpRequest, credits: int) -> int:
        referrer = await self.referrals.referrer_of(request.user_id)
        bonus = self.packages.referral_bonus(credits)
        if referrer is None or bonus <= 0:
            return 0
        # Keyed by the charge: once per payment, however often this runs.
        await self.ledger.credit(
            referrer,
            bonus,
            key=f"referral:{request.charge_id}",
            kind="bonus",
            reason="referral bonus",
            metadata={"referred_user": request.user_id, "telegram_payment_charge_id": request.charge_id},
        )
        return bonus

    # ---- reconciliation -------------------------------------------------------------------------------
    # ---- refund of a top-up (admin) ----------------------------------------------------------------------
    @implements(contract.reserve_topup_refund)
    async def reserve_topup_refund(self, step: RefundTopUpStep) -> ReservationOutcome:
        payment = await self.payments.get(step.request.charge_id)
        if payment is None:
            await self._audit(step, "refused", {"why": "unknown payment"})
            return ReservationOutcome(outcome="unknown_payment")
        if payment.status == "refunded":
            await self._audit(step, "already_done", {})
            return ReservationOutcome(outcome="already_refunded", user_id=payment.user_id)
        try:
            await self.ledger.hold(
                payment.user_id, payment.credits, key=refund_hold_key(payment.telegram_payment_charge_id)
            )
        except InsufficientCredits as err:
            await self._audit(step, "refused", {"why": "credits already spent", "shortfall": err.shortfall})
            return ReservationOutcome(
                outcome="insufficient_credits",
                user_id=payment.user_id,
                credits=payment.credits,
                shortfall=err.shortfall,
            )
        return ReservationOutcome(outcome="reserved", user_id=payment.user_id, credits=payment.credits)

    @implements(contract.complete_topup_refund)
    async def complete_topup_refund(self, step: RefundTopUpStep) -> AdminResult:
        charge_id = step.request.charge_id
        payment = await self.payments.get(charge_id)
        assert payment is not None
        movement = await self.ledger.charge(
            hold_key=refund_hold_key(charge_id), key=f"topup-refund:{charge_id}"
        )
        await self.payments.mark_refunded(charge_id)
        await self._audit(step, "done", {"credits_reversed": payment.credits})
        return AdminResult(
            outcome="done",
            user_id=payment.user_id,
            amount=payment.credits,
            balance_after=movement.available_after,
            detail=f"{payment.stars} Stars refunded, {payment.credits} credits reversed",
        )

    @implements(contract.cancel_topup_refund)
    async def cancel_topup_refund(self, step: RefundTopUpStep) -> AdminResult:
        charge_id = step.request.charge_id
        await self.ledger.release(hold_key=refund_hold_key(charge_id), key=f"topup-refund-cancel:{charge_id}")
        await self._audit(step, "refused", {"why": "Telegram refused the refund"})
        return AdminResult(outcome="refused")

    async def _audit(self, step: RefundTopUpStep, outcome: str, details: dict[str, Any]) -> None:
        await self.audit.record(
            workflow_id=step.workflow_id,
            run_id=activity.info().workflow_run_id or "",  # always set: these run in a workflow
            admin_id=step.request.admin_id,
            action="refund_topup",
            target=step.request.charge_id,
            reason=step.request.reason,
            outcome=outcome,
            details=details,
        )
