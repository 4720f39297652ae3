"""activities/kie.py with several keys: a refused key leaves the rotation (once, with an alert workflow and a
lower queue rate on the real dev server) and the submit is retried on another; a status check goes to the
task's own key, or to each key in turn when the task's origin is unknown."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.kie import KieActivities, SubmitLimits
from catalog import get_catalog
from contracts.models import StatusInput, SubmitInput
from contracts.queues import kie_task_queue
from db import Slot
from kie.accounts import KieAccounts, key_id
from kie.client import KieClient
from tests.kie.support import Rejections

CATALOG = get_catalog()
GOOD, BAD, OTHER = "key-good", "key-bad", "key-other"


@dataclass
class Accounts:
    """KIE answering per Bearer token: BAD is refused (401); tasks belong to the token that made them."""

    tasks: dict[str, str] = field(default_factory=dict)  # task id -> token
    seen: list[tuple[str, str]] = field(default_factory=list)  # (token, path)

    async def handle(self, request: web.Request) -> web.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        self.seen.append((token, request.path))
        if token == BAD:
            return web.json_response({"code": 401, "msg": "You do not have access permissions"}, status=401)
        if request.method == "POST":
            task = f"t{len(self.tasks) + 1}"
            self.tasks[task] = token
            return web.json_response({"code": 200, "msg": "success", "data": {"taskId": task}})
        task = request.query["taskId"]
        if self.tasks.get(task) != token:
            return web.json_response({"code": 404, "msg": "Task not found"})
        data = {"taskId": task, "state": "waiting", "resultJson": "", "failCode": "", "failMsg": ""}
        return web.Response(text=json.dumps({"code": 200, "msg": "success", "data": data}))


class Keys:
    """KieKeys handing out BAD first (as the least used), then GOOD once BAD is disabled."""

    def __init__(self) -> None:
        self.disabled: list[str] = []

    async def take_slot(self, key_ids: list[str], **_: Any) -> Slot:
        active = [k for k in key_ids if k not in self.disabled]
        return Slot(active[0] if active else None, active_keys=len(active))

    async def disable(self, key: str, reason: str, *, among: list[str]) -> bool:
        if key in self.disabled:
            return False
        self.disabled.append(key)
        return True

    async def active(self, key_ids: list[str]) -> list[str]:
        return [k for k in key_ids if k not in self.disabled]


class Generations:
    def __init__(self) -> None:
        self.task_keys: dict[str, str] = {}  # task id -> the key fingerprint that made it

    async def set_stage(self, *_: Any, **__: Any) -> None: ...

    async def add_task_id(self, gid: str, task_id: str, key_id: str | None = None) -> None:
        if key_id:
            self.task_keys[task_id] = key_id

    async def key_of_task(self, task_id: str) -> str | None:
        return self.task_keys.get(task_id)


@pytest.fixture
async def activities() -> AsyncIterator[tuple[KieActivities, Accounts]]:
    kie = Accounts()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", kie.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with aiohttp.ClientSession() as http:
        client = KieClient(http, base_url=url, upload_base_url=url, api_key=GOOD, timeout=2.0)
        queue = f"keys-{uuid.uuid4().hex[:8]}"
        yield (
            KieActivities(
                KieAccounts(client, [BAD, GOOD, OTHER]),
                CATALOG,
                Generations(),  # type: ignore[arg-type]
                Keys(),  # type: ignore[arg-type]
                Rejections(),  # type: ignore[arg-type]
                limits=SubmitLimits(
                    tasks_per_period=20, period_seconds=10, margin_seconds=0.25, task_queue=queue
                ),
                public_base_url="https://genflow.example",
                callback_secret="s",
            ),
            kie,
        )
    await runner.cleanup()


async def test_a_refused_key_leaves_the_rotation_and_the_retry_uses_another(
    activities: tuple[KieActivities, Accounts], temporal_dev: WorkflowEnvironment
):
    acts, kie = activities
    env = ActivityEnvironment(client=temporal_dev.client)
    data = SubmitInput(generation_id="gen-1-a", model_id="google/nano-banana", inputs={"prompt": "a cat"})
    with pytest.raises(ApplicationError) as refused:
        await env.run(acts.submit_task, data)
    assert refused.value.type == "KieKeyRefused" and not refused.value.non_retryable
    assert acts.keys.disabled == [key_id(BAD)]  # type: ignore[attr-defined]
    outcome = await env.run(acts.submit_task, data)  # Temporal's retry
    assert outcome.ok and outcome.key_id == key_id(GOOD) and kie.tasks[outcome.task_id or ""] == GOOD
    # The admins hear of it through a workflow (this process has no Bot), by fingerprint only.
    alerts = [
        w
        async for w in temporal_dev.client.list_workflows('WorkflowType = "AdminAlertWorkflow"')
        if w.id.startswith(f"alert-kie-key-{key_id(BAD)}")
    ]
    assert len(alerts) == 1
    # The queue now dispatches for the two keys left: the rate is set on the server for every worker.
    described = await temporal_dev.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name=kie_task_queue(acts.limits.task_queue)),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            report_config=True,
        )
    )
    rate = described.config.queue_rate_limit.rate_limit.requests_per_second
    assert rate == pytest.approx(acts.limits.rate(2), rel=1e-3)


async def test_status_goes_to_the_tasks_key_or_to_each_key_when_unknown(
    activities: tuple[KieActivities, Accounts],
):
    acts, kie = activities
    kie.tasks["t9"] = GOOD
    env = ActivityEnvironment()
    check = await env.run(
        acts.check_task,
        StatusInput(generation_id="g", model_id="google/nano-banana", task_id="t9", key_id=key_id(GOOD)),
    )
    assert check.state == "in_progress" and kie.seen[-1][0] == GOOD
    kie.seen.clear()
    # A task only a callback named (its create answer was lost): each key in turn, past a refused one.
    check = await env.run(
        acts.check_task, StatusInput(generation_id="g", model_id="google/nano-banana", task_id="t9")
    )
    assert check.state == "in_progress" and [t for t, _ in kie.seen] == [BAD, GOOD]


async def test_a_task_whose_key_was_revoked_fails_at_once(activities: tuple[KieActivities, Accounts]):
    acts, kie = activities
    kie.tasks["t5"] = BAD
    check = await ActivityEnvironment().run(
        acts.check_task,
        StatusInput(generation_id="g", model_id="google/nano-banana", task_id="t5", key_id=key_id(BAD)),
    )
    assert (check.state, check.fail_code) == ("failed", "key_refused")


async def test_a_follow_up_goes_to_the_account_that_made_its_task(activities: tuple[KieActivities, Accounts]):
    # An upscale of an earlier Grok Imagine task: only the account that made the task knows it, so the
    # submit takes a slot of that key, not of the first key in rotation (BAD here, which would be refused).
    acts, kie = activities
    acts.generations.task_keys["task-parent"] = key_id(OTHER)  # type: ignore[attr-defined]
    data = SubmitInput(
        generation_id="gen-1-up", model_id="grok-imagine/upscale", inputs={"task_id": "task-parent"}
    )
    outcome = await ActivityEnvironment().run(acts.submit_task, data)
    assert outcome.ok and outcome.key_id == key_id(OTHER)
    assert [token for token, _path in kie.seen] == [OTHER]
    assert acts.generations.task_keys[outcome.task_id or ""] == key_id(OTHER)  # type: ignore[attr-defined]
