"""Admin actions that move money: proposed with the exact amount and the reason, confirmed, then run as a
workflow started through ``workflows.starter``; the bot shows the workflow's structured result."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, Literal

from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel, Field
from temporalio.client import WorkflowFailureError, WorkflowHandle

from bot.services import Services
from contracts.money import AdjustCreditsRequest, AdminResult, RefundGenerationRequest, RefundTopUpRequest
from workflows.starter import start_adjust_credits, start_refund_generation, start_refund_topup

ADMIN_WAIT = 20.0  # seconds to wait for an admin workflow's result before pointing at the Temporal UI
MAX_ADJUSTMENT = 1_000_000
MAX_REASON = 500


class PendingAction(BaseModel):
    """An action being asked for (in the FSM while the admin types the amount or the reason), then on its
    confirmation card with ``reason`` and ``key``."""

    kind: Literal["adjust", "refund_gen", "refund_topup"]
    user_id: int
    target: str = ""  # the generation id or the charge id
    amount: int = 0  # adjust: ±credits; refund_gen: the credits going back
    stars: int = 0  # refund_topup: the Stars going back
    credits: int = 0  # refund_topup: the credits taken back
    reason: str = Field(default="", max_length=MAX_REASON)
    key: str = ""  # the confirmation's key: only its own Confirm button runs it

    @classmethod
    def adjust(cls, user_id: int) -> PendingAction:
        return cls(kind="adjust", user_id=user_id)

    @classmethod
    def refund_generation(cls, user_id: int, generation_id: str, price: int) -> PendingAction:
        return cls(kind="refund_gen", user_id=user_id, target=generation_id, amount=price)

    @classmethod
    def refund_topup(cls, user_id: int, charge_id: str, stars: int, credits: int) -> PendingAction:
        return cls(kind="refund_topup", user_id=user_id, target=charge_id, stars=stars, credits=credits)

    def proposed(self, reason: str) -> PendingAction:
        return self.model_copy(update={"reason": reason, "key": secrets.token_hex(6)})


async def run(
    services: Services, admin_id: int, action: PendingAction
) -> tuple[str, AdminResult | None, str | None]:
    """Start (or attach to) the action's workflow; its id, its result (None: still running) or a failure."""
    client, queue = services.temporal, services.task_queue
    handle: WorkflowHandle[Any, AdminResult]
    if action.kind == "adjust":
        adjust = AdjustCreditsRequest(
            admin_id=admin_id,
            user_id=action.user_id,
            amount=action.amount,
            reason=action.reason,
            request_key=action.key,
        )
        handle = await start_adjust_credits(client, adjust, task_queue=queue)
    elif action.kind == "refund_gen":
        refund = RefundGenerationRequest(admin_id=admin_id, generation_id=action.target, reason=action.reason)
        handle = await start_refund_generation(client, refund, task_queue=queue)
    else:
        topup = RefundTopUpRequest(admin_id=admin_id, charge_id=action.target, reason=action.reason)
        handle = await start_refund_topup(client, topup, task_queue=queue, user_id=action.user_id)
    try:
        result = await asyncio.wait_for(handle.result(), ADMIN_WAIT)
    except TimeoutError:
        return handle.id, None, None
    except WorkflowFailureError as error:
        return handle.id, None, str(error.cause or error)
    return handle.id, result, None


def outcome_text(action: PendingAction, result: AdminResult | None, failure: str | None) -> str:
    if failure is not None:
        return _("⚠️ The workflow failed: {error}").format(error=failure)
    if result is None:
        return _("⏳ Still running. Follow it in the Temporal UI:")
    if result.outcome == "already_done":
        return _("☑️ Already done before: nothing was moved again.")
    if result.outcome == "unknown":
        return _("❓ Not found: {detail}").format(detail=result.detail or "—")
    if result.outcome == "refused":
        if action.kind == "refund_topup" and result.shortfall:
            return _(
                "⛔ Refused: the user has already spent these credits, {shortfall} credits short. "
                "No Stars were refunded. Balances never go negative: adjust first if you still want "
                "to refund."
            ).format(shortfall=result.shortfall)
        return _("⛔ Refused: {detail}").format(detail=result.detail or "—")
    available = "—" if result.balance_after is None else str(result.balance_after)
    if action.kind == "adjust":
        return _("✅ Done: {amount} credits for user {user}. Available now: {available}.").format(
            amount=f"{action.amount:+d}", user=action.user_id, available=available
        )
    if action.kind == "refund_gen":
        return _("✅ Done: {amount} credits returned to user {user}. Available now: {available}.").format(
            amount=result.amount, user=action.user_id, available=available
        )
    return _(
        "✅ Done: {stars} ⭐ refunded to user {user}, {credits} credits taken back. "
        "Available now: {available}."
    ).format(stars=action.stars, user=action.user_id, credits=result.amount, available=available)
