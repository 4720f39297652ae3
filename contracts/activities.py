"""Every activity a workflow calls: its name, its one input model, its output and the queue serving it.

Each is declared here as a typed stub; the workflow calls the stub (``workflow.execute_activity(
activities.deliver_result, DeliverInput(...), task_queue=...)``), so a changed input or output type is a
type error at the call site, and the activity classes implement it under the same name with
``@implements(<stub>)``, which checks the signature matches. Nothing here imports aiogram or asyncpg: the
workflow worker loads this module.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, get_type_hints

from temporalio import activity

from contracts.models import (
    DeliverInput,
    DeliveryOutcome,
    HoldInput,
    HoldOutcome,
    NotifyInput,
    PollInput,
    PrepareInput,
    QueueInput,
    QueuePlace,
    SettleInput,
    StatusInput,
    SubmitInput,
    SubmitOutcome,
    TaskCheck,
    ValidatedGeneration,
    ValidateInput,
)
from contracts.money import (
    AdminNotice,
    AdminResult,
    AdminStep,
    KieCreditsCheck,
    ReconcileInput,
    RefundNotice,
    RefundTopUpStep,
    ReservationOutcome,
    StarPayment,
    TopUpNotice,
    TopUpRequest,
    TopUpResult,
)
from contracts.queues import Queue
from contracts.recipes import (
    HoldAllInput,
    HoldAllOutcome,
    PriceInput,
    RecipeNotice,
    RecipePrice,
    ReleaseInput,
)

# ---- main queue: PostgreSQL and KIE's status endpoint (the first six run as local activities) -----------


@activity.defn
async def validate_generation(data: ValidateInput) -> ValidatedGeneration: ...


@activity.defn
async def hold_credits(data: HoldInput) -> HoldOutcome: ...


@activity.defn
async def settle_credits(data: SettleInput) -> None: ...


@activity.defn
async def record_outcome(data: SettleInput) -> None: ...


@activity.defn
async def join_queue(data: QueueInput) -> QueuePlace: ...


@activity.defn
async def queue_place(data: QueueInput) -> QueuePlace: ...


@activity.defn
async def check_task(data: StatusInput) -> TaskCheck: ...


@activity.defn
async def poll_tasks(data: PollInput) -> TaskCheck:
    """Ask KIE about every task; return news (``contracts.polling.news``) or raise "still running", which
    Temporal retries on the poll schedule without a workflow task."""
    ...


@activity.defn
async def credit_topup(data: TopUpRequest) -> TopUpResult: ...


@activity.defn
async def reserve_topup_refund(data: RefundTopUpStep) -> ReservationOutcome: ...


@activity.defn
async def complete_topup_refund(data: RefundTopUpStep) -> AdminResult: ...


@activity.defn
async def cancel_topup_refund(data: RefundTopUpStep) -> AdminResult: ...


@activity.defn
async def adjust_credits(data: AdminStep) -> AdminResult: ...


@activity.defn
async def refund_generation(data: AdminStep) -> AdminResult: ...


@activity.defn
async def price_recipe(data: PriceInput) -> RecipePrice: ...


@activity.defn
async def hold_recipe(data: HoldAllInput) -> HoldAllOutcome: ...


@activity.defn
async def release_recipe(data: ReleaseInput) -> None: ...


# ---- <queue>-kie: KIE submits, fair per user and paced at the KIE keys' limit -----------------------------


@activity.defn
async def submit_task(data: SubmitInput) -> SubmitOutcome: ...


# ---- <queue>-telegram: everything that calls the Bot API (telegram_worker.py) ----------------------------


@activity.defn
async def notify_status(data: NotifyInput) -> None: ...


@activity.defn
async def deliver_result(data: DeliverInput) -> DeliveryOutcome: ...


@activity.defn
async def prepare_inputs(data: PrepareInput) -> dict[str, Any]: ...


@activity.defn
async def notify_topup(data: TopUpNotice) -> None: ...


@activity.defn
async def notify_refund(data: RefundNotice) -> None: ...


@activity.defn
async def notify_admins(data: AdminNotice) -> None: ...


@activity.defn
async def check_kie_credits() -> KieCreditsCheck: ...


@activity.defn
async def find_uncredited_star_payments(data: ReconcileInput) -> list[StarPayment]: ...


@activity.defn
async def refund_stars(data: RefundTopUpStep) -> None: ...


@activity.defn
async def notify_recipe(data: RecipeNotice) -> None: ...


SERVED_ON: dict[Callable[..., Awaitable[Any]], Queue] = {
    **dict.fromkeys(
        (
            validate_generation,
            hold_credits,
            settle_credits,
            record_outcome,
            join_queue,
            queue_place,
            check_task,
            poll_tasks,
            credit_topup,
            reserve_topup_refund,
            complete_topup_refund,
            cancel_topup_refund,
            adjust_credits,
            refund_generation,
            price_recipe,
            hold_recipe,
            release_recipe,
        ),
        Queue.MAIN,
    ),
    submit_task: Queue.KIE,
    **dict.fromkeys(
        (
            notify_status,
            deliver_result,
            prepare_inputs,
            notify_topup,
            notify_refund,
            notify_admins,
            check_kie_credits,
            find_uncredited_star_payments,
            refund_stars,
            notify_recipe,
        ),
        Queue.TELEGRAM,
    ),
}


def name_of(stub: Callable[..., Any]) -> str:
    """The activity's registered name: the stub's own (no stub sets ``name=``)."""
    return stub.__name__


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def implements(stub: Callable[..., Awaitable[Any]]) -> Callable[[F], F]:
    """Register a method as the implementation of ``stub``: same activity name, same input and output.

    Checked when the class is defined, so a drifted signature fails at import, not in a workflow.
    """

    def decorate(method: F) -> F:
        if method.__name__ != stub.__name__:  # one name: grep finds the implementation by the contract's
            raise TypeError(f"{method.__qualname__} implements {stub.__name__}: name it so")
        want = _signature(stub, skip_self=False)
        got = _signature(method, skip_self=True)
        if want != got:
            raise TypeError(
                f"{method.__qualname__} does not match the contract {name_of(stub)}: {got} != {want}"
            )
        return activity.defn(name=name_of(stub))(method)

    return decorate


def _signature(fn: Callable[..., Any], *, skip_self: bool) -> tuple[list[Any], Any]:
    hints = get_type_hints(fn)
    names = list(inspect.signature(fn).parameters)[1 if skip_self else 0 :]
    return [hints.get(n) for n in names], hints.get("return")
