"""Pydantic models for the money workflows: top-ups, reconciliation and admin actions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from contracts.models import Lang


class TopUpRequest(BaseModel):
    """A paid Stars invoice. Keyed by ``telegram_payment_charge_id``: the same invoice can be paid twice
    with two charge ids, and the same charge can be reported many times."""

    user_id: int
    chat_id: int
    charge_id: str = Field(min_length=1, max_length=256)
    total_amount: int
    currency: str = "XTR"
    invoice_payload: str = ""
    language: Lang = "en"
    source: Literal["update", "reconciliation"] = "update"


class TopUpResult(BaseModel):
    outcome: Literal["credited", "unmatched"]
    credits: int = 0
    balance_after: int | None = None
    referral_bonus: int = 0
    replayed: bool = False
    detail: str | None = None
    report_to_admins: bool = False  # an unmatched payment seen for the first time


class TopUpNotice(BaseModel):
    user_id: int | None = None  # whose stored language to speak
    chat_id: int
    language: Lang
    credits: int
    balance_after: int


class StarPayment(BaseModel):
    charge_id: str
    user_id: int
    amount: int
    payload: str


class ReconcileInput(BaseModel):
    max_pages: int = 10


class ReconcileResult(BaseModel):
    checked: int = 0
    started: list[str] = Field(default_factory=list)
    unmatched: list[str] = Field(default_factory=list)


class AdminNotice(BaseModel):
    text: str


class RefundNotice(BaseModel):
    """Tell a user credits came back (an admin's refund of a generation)."""

    user_id: int
    credits: int


# ---- admin actions: each one a workflow, with the admin and the reason recorded --------------------------


class RefundTopUpRequest(BaseModel):
    admin_id: int
    charge_id: str
    reason: str = Field(min_length=1, max_length=500)


class RefundTopUpStep(BaseModel):
    workflow_id: str
    request: RefundTopUpRequest


class ReservationOutcome(BaseModel):
    outcome: Literal["reserved", "already_refunded", "unknown_payment", "insufficient_credits"]
    user_id: int = 0
    credits: int = 0
    shortfall: int = 0


class AdjustCreditsRequest(BaseModel):
    admin_id: int
    user_id: int
    amount: int  # positive credits, negative debits; never zero
    reason: str = Field(min_length=1, max_length=500)
    request_key: str = Field(min_length=1, max_length=64)


class RefundGenerationRequest(BaseModel):
    admin_id: int
    generation_id: str
    reason: str = Field(min_length=1, max_length=500)


class AdminStep(BaseModel):
    workflow_id: str
    adjust: AdjustCreditsRequest | None = None
    refund_generation: RefundGenerationRequest | None = None


class AdminResult(BaseModel):
    outcome: Literal["done", "already_done", "refused", "unknown"]
    detail: str | None = None  # for operators; the bot reads the structured fields below
    user_id: int | None = None
    amount: int = 0
    balance_after: int | None = None
    shortfall: int | None = None  # a top-up refund refused because the credits were spent: how many short


# ---- operations -----------------------------------------------------------------------------------------


class KieCreditsCheck(BaseModel):
    """What one check found: the balance, the threshold it was compared with, whom it alerted."""

    credits: int
    threshold: int
    low: bool
    admins_alerted: int = 0
    admins_failed: int = 0
    refused: list[str] = []  # keys KIE refused (401/402): fingerprints, never the keys
    restored: list[str] = []  # keys put back into rotation by this check
