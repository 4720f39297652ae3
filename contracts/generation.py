"""What other processes may say to a running ``GenerationWorkflow``, and what operators search it by.

The workflow declares its handlers with these names; the webhooks server, the bot and the tests use them
through the typed helpers below, so none of them needs the workflow's module (or spells a name).
"""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributeKey

from contracts.models import CancelResult, GenerationStatus, KieCallbackSignal

KIE_CALLBACK = "kie_callback"  # signal: KIE called back about a task (a notification; confirmed by polling)
POLL_NOW = "poll_now"  # signal: operators ask for a status check now
CANCEL = "cancel"  # update: the user cancels; refused once the KIE task may exist
STATUS = "status"  # query: the whole state

# Search attributes (Keyword): registered on the dev server by genflow.embedded and on a cluster by the
# deploy guide's `temporal operator search-attribute create`. Values are ids, never personal data.
GENERATION_STAGE = SearchAttributeKey.for_keyword("GenerationStage")
TELEGRAM_USER_ID = SearchAttributeKey.for_keyword("TelegramUserId")
KIE_MODEL = SearchAttributeKey.for_keyword("KieModel")
KIE_TASK_ID = SearchAttributeKey.for_keyword("KieTaskId")
SEARCH_ATTRIBUTES = (GENERATION_STAGE, TELEGRAM_USER_ID, KIE_MODEL, KIE_TASK_ID)


async def signal_kie_callback(handle: WorkflowHandle[Any, Any], callback: KieCallbackSignal) -> None:
    await handle.signal(KIE_CALLBACK, callback)


async def signal_poll_now(handle: WorkflowHandle[Any, Any]) -> None:
    await handle.signal(POLL_NOW)


async def cancel(handle: WorkflowHandle[Any, Any]) -> CancelResult:
    """Raises ``WorkflowUpdateFailedError`` when it is too late to cancel."""
    # By name (no import of the workflow), so the SDK types the answer Any; result_type decodes it.
    result: CancelResult = await handle.execute_update(CANCEL, result_type=CancelResult)
    return result


async def status(handle: WorkflowHandle[Any, Any]) -> GenerationStatus:
    state: GenerationStatus = await handle.query(STATUS, result_type=GenerationStatus)
    return state
