"""Pydantic models crossing the workflow/activity boundary (the single argument of each call).

Media bytes never appear here: only Telegram file ids and URLs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

Lang = Literal["ru", "en"]


class Stage(StrEnum):
    """Where a generation is; also the ``GenerationStage`` search attribute and the DB ``stage`` column."""

    VALIDATING = "validating"
    HOLDING = "holding"
    PREPARING = "preparing"
    QUEUED = "queued"  # waiting for a KIE submit slot (KIE's per-account rate limit)
    SUBMITTING = "submitting"
    WAITING = "waiting_kie"
    SETTLING = "settling"
    DELIVERING = "delivering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # nothing was held: bad input or not enough credits


class Reason(StrEnum):
    """Why a generation did not succeed; the bot and activities phrase each in the user's language."""

    INVALID_INPUT = "invalid_input"
    MODEL_UNAVAILABLE = "model_unavailable"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    FREE_LIMIT_REACHED = "free_limit_reached"
    INPUT_MEDIA_FAILED = "input_media_failed"
    KIE_REJECTED = "kie_rejected"
    MODEL_CHANGED = "model_changed"  # KIE refused as invalid what the catalog accepted: its schema changed
    SERVICE_UNAVAILABLE = "service_unavailable"
    GENERATION_FAILED = "generation_failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


# ---- workflow input / output / query ---------------------------------------------------------------------


class GenerationRequest(BaseModel):
    user_id: int
    chat_id: int
    request_key: str = Field(min_length=1, max_length=64)
    model_id: str
    inputs: dict[str, Any]
    language: Lang = "en"
    status_message_id: int | None = None
    # A follow-up of an earlier result (animate this image, upscale, extend…): the generation it continues.
    parent_id: str | None = None
    # A step of a recipe: the recipe's workflow id. Its credits were held by the recipe (``prepaid``), and
    # the recipe's own status message tells the user how the steps go (``quiet``: no status message here).
    chain_id: str | None = None
    prepaid: int | None = None
    quiet: bool = False


class ResultFile(BaseModel):
    url: str
    media_type: Literal["image", "video", "audio", "unknown"] = "unknown"
    title: str | None = None


class GenerationResult(BaseModel):
    generation_id: str
    outcome: Outcome
    reason: Reason | None = None
    detail: str | None = None  # e.g. KIE's failure message or the validation errors, for operators
    price: int = 0
    charged: bool = False
    task_id: str | None = None
    files: list[ResultFile] = Field(default_factory=list)
    delivered: bool = False
    file_ids: list[str] = Field(default_factory=list)  # Telegram's ids of the delivered files
    produced_at: datetime | None = None  # when KIE's result was confirmed (its URLs live about a day)


class QueuePlace(BaseModel):
    """Where a generation stands in the fair KIE submit queue (an estimate: Temporal dispatches)."""

    ahead: int = 0  # submits expected before this one under fair (per-user weighted) dispatch
    queued: int = 0  # generations waiting for a submit slot in all
    wait_seconds: float = 0.0  # ahead / submit capacity
    refresh_seconds: float = 5.0  # when to look again: spreads status edits under Telegram's limits
    first_notice_seconds: float = 0.0  # a user's later queued generations say so one after another
    fairness_key: str = ""
    fairness_weight: float = 1.0
    priority_key: int | None = None  # FIRST_IN_QUEUE for a user's first waiting generation, else the default


class GenerationStatus(BaseModel):
    """What the ``status`` query returns: the whole state an operator or the bot needs."""

    generation_id: str
    stage: Stage
    model_id: str
    price: int | None = None
    free: bool = False
    task_ids: list[str] = Field(default_factory=list)
    progress: float | None = None
    callbacks_received: int = 0
    polls: int = 0
    cancel_requested: bool = False
    queue: QueuePlace | None = None  # while waiting for a KIE submit slot
    result: GenerationResult | None = None


class KieCallbackSignal(BaseModel):
    """Sent by the webhook server. A notification only: the workflow confirms with KIE's status endpoint."""

    task_id: str
    callback_type: str | None = None
    # What the callback body says (parsed by the model's KIE adapter), for the timeline only: never trusted.
    reported: str | None = Field(default=None, max_length=200)


class CancelResult(BaseModel):
    accepted: bool
    stage: Stage


# ---- activity arguments and results ----------------------------------------------------------------------


class ValidateInput(BaseModel):
    generation_id: str
    request: GenerationRequest


class InputProblem(BaseModel):
    """An input the catalog refused (a catalog FieldError's field, rule and limits)."""

    field: str
    rule: str
    limits: dict[str, Any] = Field(default_factory=dict)


class ValidatedGeneration(BaseModel):
    ok: bool
    errors: list[InputProblem] = Field(default_factory=list)
    api: str = ""
    format: str = ""
    output: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    media_fields: list[str] = Field(default_factory=list)
    price: int = 0
    free: bool = False
    free_daily_allowance: int | None = None
    deadline_seconds: int = 900

    @property
    def refusal(self) -> Reason:
        """Why a generation that did not validate is refused."""
        model_gone = any(e.rule in ("disabled_model", "unknown_model") for e in self.errors)
        return Reason.MODEL_UNAVAILABLE if model_gone else Reason.INVALID_INPUT

    @property
    def problems(self) -> str | None:
        """The refused inputs for operators: "prompt: max_length; duration: enum"."""
        return "; ".join(f"{e.field}: {e.rule}" for e in self.errors) or None


class HoldInput(BaseModel):
    generation_id: str
    user_id: int
    amount: int
    free: bool
    free_daily_allowance: int | None = None
    enter_queue: bool = False  # nothing to prepare: the generation joins the KIE submit queue now


class HoldOutcome(BaseModel):
    ok: bool
    reason: Reason | None = None
    available: int = 0
    shortfall: int = 0
    queue: QueuePlace | None = None


class QueueInput(BaseModel):
    generation_id: str
    user_id: int


class PrepareInput(BaseModel):
    generation_id: str
    model_id: str
    inputs: dict[str, Any]
    media_fields: list[str]


class SubmitInput(BaseModel):
    generation_id: str
    model_id: str
    inputs: dict[str, Any]


class SubmitOutcome(BaseModel):
    ok: bool
    task_id: str | None = None
    key_id: str | None = None  # the KIE account (key fingerprint) that made the task
    reason: Reason | None = None
    detail: str | None = None


class StatusInput(BaseModel):
    generation_id: str
    model_id: str
    task_id: str
    key_id: str | None = None  # None: the task's account is unknown (a callback named it); try each key


class PollInput(BaseModel):
    """Every KIE task of a generation, polled until there is news (``contracts.polling``)."""

    generation_id: str
    model_id: str
    task_ids: list[str]
    keys: dict[str, str] = Field(default_factory=dict)  # task id -> the KIE key that made it
    shown_progress: float | None = None  # what the chat shows: progress is news a step past it
    polls_before: int = 0  # polls already done: where on the schedule this poll's retries start


class TaskCheck(BaseModel):
    task_id: str
    state: Literal["in_progress", "succeeded", "failed", "unknown"]
    files: list[ResultFile] = Field(default_factory=list)
    progress: float | None = None
    fail_code: str | None = None
    fail_message: str | None = None
    polls: int = 0  # polls (each of every task) this answer took: the poll activity's attempts


class SettleInput(BaseModel):
    generation_id: str
    user_id: int
    success: bool
    free: bool
    amount: int
    outcome: Outcome
    reason: Reason | None = None
    detail: str | None = None
    task_id: str | None = None
    files: list[ResultFile] = Field(default_factory=list)


class NotifyInput(BaseModel):
    """Best-effort edit of the chat's status message."""

    generation_id: str
    chat_id: int
    message_id: int | None
    language: Lang
    stage: Stage
    model_id: str
    progress: float | None = None
    cancellable: bool = False
    reason: Reason | None = None
    shortfall: int | None = None
    detail_key: str | None = None
    queue: QueuePlace | None = None


class DeliverInput(BaseModel):
    generation_id: str
    chat_id: int
    language: Lang
    model_id: str
    status_message_id: int | None
    files: list[ResultFile]
    price: int
    offer_follow_ups: bool = True  # the "What next?" buttons (a recipe's steps go on by themselves)


class DeliveryOutcome(BaseModel):
    delivered: bool
    file_ids: list[str] = Field(default_factory=list)
    method: str | None = None  # url / upload / document / link
    failure: str | None = None  # blocked / too_large / ...
