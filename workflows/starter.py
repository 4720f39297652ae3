"""The one way to start a generation: the bot, tests and benchmarks all go through here."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.generation import GENERATION_STAGE, KIE_MODEL, TELEGRAM_USER_ID
from contracts.ids import generation_id, topup_id
from contracts.models import GenerationRequest, GenerationResult, Stage
from contracts.money import TopUpRequest, TopUpResult
from workflows.generation import GenerationWorkflow
from workflows.payments import TopUpWorkflow


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
            result_type=GenerationResult,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(workflow_id, result_type=GenerationResult)


async def start_topup(client: Client, request: TopUpRequest, *, task_queue: str) -> WorkflowHandle:
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
            result_type=TopUpResult,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(workflow_id, result_type=TopUpResult)
