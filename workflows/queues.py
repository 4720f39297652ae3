"""Task queues, all derived from the workflow's own queue so workers and workflows agree without config.

- ``<queue>``: workflows and the activities that touch only PostgreSQL or KIE's status endpoint.
- ``<queue>-kie``: KIE submits, dispatched fairly per user (fairness keys) at the rate every active KIE key
  allows together, server-side across every worker; each submit then takes a slot of one key (db.KieKeys).
- ``<queue>-telegram``: every activity that calls the Telegram Bot API, served by ``telegram_worker.py``.
  It holds aiogram (≈160 MB per process), so the worker that caches waiting workflows does not, and Telegram's
  bot-wide message limit is enforced server-side like KIE's.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit
from temporalio.api.workflowservice.v1 import UpdateTaskQueueConfigRequest
from temporalio.client import Client


def kie_task_queue(task_queue: str) -> str:
    return f"{task_queue}-kie"


def telegram_task_queue(task_queue: str) -> str:
    return f"{task_queue}-telegram"


def submit_rate(
    active_keys: int, tasks_per_period: int, period_seconds: float, margin_seconds: float
) -> float:
    """Submits a second the KIE queue may dispatch: every active key's limit, counted over its window."""
    return max(active_keys, 1) * tasks_per_period / (period_seconds + margin_seconds)


async def set_submit_rate(client: Client, task_queue: str, per_second: float, reason: str) -> None:
    """Set the KIE queue's dispatch rate on the server for every worker (it overrides the workers' own).

    Called at worker start and whenever a key leaves or rejoins the rotation.
    """
    await client.workflow_service.update_task_queue_config(
        UpdateTaskQueueConfigRequest(
            namespace=client.namespace,
            identity=client.identity,
            task_queue=kie_task_queue(task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            update_queue_rate_limit=UpdateTaskQueueConfigRequest.RateLimitUpdate(
                rate_limit=RateLimit(requests_per_second=per_second), reason=reason[:100]
            ),
        )
    )
