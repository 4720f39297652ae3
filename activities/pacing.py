"""The KIE submit queue's dispatch rate: every active KIE key's limit together, set on the server.

Set by each worker at start and whenever a key leaves or rejoins the rotation; the server applies it to
every worker polling ``<queue>-kie`` (it overrides the workers' own ``max_task_queue_activities_per_second``).
"""

from __future__ import annotations

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit
from temporalio.api.workflowservice.v1 import UpdateTaskQueueConfigRequest
from temporalio.client import Client

from contracts.queues import kie_task_queue


def submit_rate(
    active_keys: int, tasks_per_period: int, period_seconds: float, margin_seconds: float
) -> float:
    """Submits a second the KIE queue may dispatch: every active key's limit, counted over its window."""
    return max(active_keys, 1) * tasks_per_period / (period_seconds + margin_seconds)


async def set_submit_rate(client: Client, task_queue: str, per_second: float, reason: str) -> None:
    """Set the KIE queue's dispatch rate on the server for every worker."""
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
