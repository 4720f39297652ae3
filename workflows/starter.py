"""The one way to start a workflow from outside Temporal: the bot, tests and benchmarks go through here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.generation import GENERATION_STAGE, KIE_MODEL, TELEGRAM_USER_ID
from contracts.ids import (
    admin_adjust_id,
    admin_refund_generation_id,
    admin_refund_topup_id,
    generation_id,
    recipe_id,
    topup_id,
)
from contracts.models import GenerationRequest, GenerationResult, Stage
from contracts.money import (
    AdjustCreditsRequest,
    AdminNotice,
    AdminResult,
    RefundGenerationRequest,
    RefundTopUpRequest,
    TopUpRequest,
    TopUpResult,
)
from contracts.recipes import RecipeRequest, RecipeResult
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow
from workflows.alerts import AdminAlertWorkflow
from workflows.generation import GenerationWorkflow
from workflows.payments import TopUpWorkflow
from workflows.recipe import RecipeWorkflow

# The result type of a handle comes from the run method's annotation (the SDK decodes into it), so the
# calls below pass no result_type.
WorkflowT = TypeVar("WorkflowT")
RequestT = TypeVar("RequestT")


async def start_generation(
    client: Client, request: GenerationRequest, *, task_queue: str
) -> WorkflowHandle[GenerationWorkflow, GenerationResult]:
    """Start (or attach to) the generation for this confirmation.

    The id comes from the user and the request key, so a double tap or a re-delivered update lands on the
    same workflow: USE_EXISTING while it runs, REJECT_DUPLICATE once it has closed.
    """
    workflow_id = generation_id(request.user_id, request.request_key)
    try:
        return await client.start_workflow(
            GenerationWorkflow.run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(GENERATION_STAGE, Stage.VALIDATING.value),
                    SearchAttributePair(TELEGRAM_USER_ID, str(request.user_id)),
                    SearchAttributePair(KIE_MODEL, request.model_id),
                ]
            ),
            # What operators read first in the Temporal UI; ids only, never the prompt.
            static_summary=f"{request.model_id} for user {request.user_id}",
            static_details=f"model `{request.model_id}` · chat `{request.chat_id}`",
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(workflow_id, result_type=GenerationResult)


async def start_topup(
    client: Client, request: TopUpRequest, *, task_queue: str
) -> WorkflowHandle[TopUpWorkflow, TopUpResult]:
    """Start (or attach to) the top-up for this charge: every copy of the update lands on one workflow."""
    workflow_id = topup_id(request.charge_id)
    try:
        return await client.start_workflow(
            TopUpWorkflow.run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"top-up for user {request.user_id} ({request.source})",
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(workflow_id, result_type=TopUpResult)


async def start_adjust_credits(
    client: Client, request: AdjustCreditsRequest, *, task_queue: str
) -> WorkflowHandle[AdjustCreditsWorkflow, AdminResult]:
    return await _start_admin_action(
        client,
        AdjustCreditsWorkflow.run,
        request,
        admin_adjust_id(request.admin_id, request.request_key),
        f"admin {request.admin_id}: adjust {request.amount:+d} for user {request.user_id}",
        task_queue,
    )


async def start_refund_generation(
    client: Client, request: RefundGenerationRequest, *, task_queue: str
) -> WorkflowHandle[RefundGenerationWorkflow, AdminResult]:
    return await _start_admin_action(
        client,
        RefundGenerationWorkflow.run,
        request,
        admin_refund_generation_id(request.generation_id),
        f"admin {request.admin_id}: refund generation {request.generation_id}",
        task_queue,
    )


async def start_refund_topup(
    client: Client, request: RefundTopUpRequest, *, task_queue: str, user_id: int
) -> WorkflowHandle[RefundTopUpWorkflow, AdminResult]:
    return await _start_admin_action(
        client,
        RefundTopUpWorkflow.run,
        request,
        admin_refund_topup_id(request.charge_id),
        f"admin {request.admin_id}: refund top-up of user {user_id}",
        task_queue,
    )


async def _start_admin_action(
    client: Client,
    run: Callable[[WorkflowT, RequestT], Awaitable[AdminResult]],
    request: RequestT,
    workflow_id: str,
    summary: str,
    task_queue: str,
) -> WorkflowHandle[WorkflowT, AdminResult]:
    """Ids are reused on purpose: ``USE_EXISTING`` while running, ``ALLOW_DUPLICATE`` once closed, so asking
    twice runs the action again and it answers "already done" (the ledger's keys move money once), and a
    refusal (credits already spent) can be retried after, say, an adjustment."""
    return await client.start_workflow(
        run,
        request,
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=summary,
    )


async def start_admin_alert(
    client: Client, notice: AdminNotice, *, workflow_id: str, summary: str, task_queue: str
) -> WorkflowHandle[AdminAlertWorkflow, None] | None:
    """Message every admin; None when an alert with this id was already sent (ids name what they are
    about, e.g. one model's refusals in one day, so the admins hear of each thing once)."""
    try:
        return await client.start_workflow(
            AdminAlertWorkflow.run,
            notice,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=summary,
        )
    except WorkflowAlreadyStartedError:
        return None


async def start_recipe(
    client: Client, request: RecipeRequest, *, task_queue: str
) -> WorkflowHandle[RecipeWorkflow, RecipeResult]:
    """Start (or attach to) the recipe for this confirmation: a double tap lands on the same workflow."""
    workflow_id = recipe_id(request.user_id, request.request_key)
    try:
        return await client.start_workflow(
            RecipeWorkflow.run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"recipe {request.recipe_id} for user {request.user_id}",
            static_details=" → ".join(f"`{step.model_id}`" for step in request.steps),
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(workflow_id, result_type=RecipeResult)
