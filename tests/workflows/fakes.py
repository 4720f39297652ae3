"""Fake activities for workflow tests: a tiny in-memory world with a ledger, KIE tasks and a chat.

Registered under the real activity names, so the workflow under test is exactly the production one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from contracts import activities as contract
from contracts.activities import implements
from contracts.generation import signal_kie_callback
from contracts.models import (
    DeliverInput,
    DeliveryOutcome,
    HoldInput,
    HoldOutcome,
    KieCallbackSignal,
    NotifyInput,
    PollInput,
    PrepareInput,
    QueueInput,
    QueuePlace,
    Reason,
    ResultFile,
    SettleInput,
    StatusInput,
    SubmitInput,
    SubmitOutcome,
    TaskCheck,
    ValidatedGeneration,
    ValidateInput,
)
from contracts.polling import poll
from contracts.queues import kie_task_queue, telegram_task_queue
from workflows.generation import GenerationWorkflow


@dataclass
class FakeTask:
    task_id: str
    state: str = "in_progress"  # in_progress / succeeded / failed
    progress: float | None = None
    succeed_at_check: int | None = None  # succeeds when checked this many times
    progress_per_check: float = 0.0  # KIE's progress moves on by this much at each check
    checks: int = 0


@dataclass
class FakeWorld:
    client: Client | None = None
    balance: int = 100
    held: int = 0
    price: int = 10
    movements: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, generation id, amount)
    validation_errors: list[dict] = field(default_factory=list)
    media_fields: list[str] = field(default_factory=list)
    prepare_gate: asyncio.Event | None = None
    prepare_cancelled: bool = False
    # The submit queue: what hold (or join_queue) says, then what each later look says
    queue: QueuePlace | None = None
    queue_places: list[QueuePlace] = field(default_factory=list)
    queue_lookups: int = 0
    queue_shown: list[int | None] = field(default_factory=list)  # `ahead` of each queued status edit
    submitted_by: list[str] = field(default_factory=list)  # the workflow id of each submit, in order
    # KIE behaviour
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    submit_script: list[str] = field(
        default_factory=list
    )  # per attempt: ok / transient / lost / reject / operator
    finish_on_submit: str | None = None  # succeeded / failed: the task is final as soon as it exists
    signal_before_return: bool = False
    status_calls: int = 0
    poll_attempts: int = 0  # attempts of the poll_tasks activity (each asks about every task)
    status_unreachable: int = 0  # this many status checks fail as KIE unreachable
    deadline_seconds: int = 900
    # Telegram behaviour
    blocked: bool = False
    deliver_failures: int = 0
    notifications: list[str] = field(default_factory=list)
    deliveries: list[list[str]] = field(default_factory=list)
    outcomes: list[tuple[str, str | None]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---- helpers for tests ---------------------------------------------------------------------------------
    def new_task(self) -> FakeTask:
        task = FakeTask(f"task-{next(self._ids)}")
        self.tasks[task.task_id] = task
        if self.finish_on_submit:
            task.state = self.finish_on_submit
        return task

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.movements]

    @property
    def activities(self) -> list:
        """What the main worker serves (contracts.activities.SERVED_ON says which queue runs what)."""
        return [
            self.validate_generation,
            self.hold_credits,
            self.check_task,
            self.poll_tasks,
            self.settle_credits,
            self.record_outcome,
            self.join_queue,
            self.queue_place,
        ]

    @property
    def telegram_activities(self) -> list:
        return [self.prepare_inputs, self.notify_status, self.deliver_result]

    def workers(self, client: Client, queue: str, *, kie: bool = True) -> list[Worker]:
        """The three workers of production's two processes, on ``queue`` and the queues derived from it.
        Without ``kie`` nobody serves the submit queue: submits wait in it, as behind a surge."""
        workers = [
            Worker(client, task_queue=queue, workflows=[GenerationWorkflow], activities=self.activities),
            Worker(client, task_queue=telegram_task_queue(queue), activities=self.telegram_activities),
        ]
        if kie:
            workers.append(self.kie_worker(client, queue))
        return workers

    def kie_worker(self, client: Client, queue: str, **options: object) -> Worker:
        return Worker(client, task_queue=kie_task_queue(queue), activities=[self.submit_task], **options)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def running(self, client: Client, queue: str, *, kie: bool = True) -> AsyncIterator[list[Worker]]:
        async with contextlib.AsyncExitStack() as stack:
            workers = self.workers(client, queue, kie=kie)
            for worker in workers:
                await stack.enter_async_context(worker)
            yield workers

    # ---- the activities ------------------------------------------------------------------------------------
    @implements(contract.validate_generation)
    async def validate_generation(self, data: ValidateInput) -> ValidatedGeneration:
        if self.validation_errors:
            return ValidatedGeneration(ok=False, errors=self.validation_errors)
        return ValidatedGeneration(
            ok=True,
            api="market",
            format="text-to-image",
            output="image",
            inputs=dict(data.request.inputs),
            media_fields=self.media_fields,
            price=self.price,
            deadline_seconds=self.deadline_seconds,
        )

    @implements(contract.hold_credits)
    async def hold_credits(self, data: HoldInput) -> HoldOutcome:
        available = self.balance - self.held
        if available < data.amount:
            return HoldOutcome(
                ok=False,
                reason=Reason.INSUFFICIENT_CREDITS,
                available=available,
                shortfall=data.amount - available,
            )
        self.held += data.amount
        self.movements.append(("hold", data.generation_id, data.amount))
        queue = self._place(data.user_id) if data.enter_queue else None
        return HoldOutcome(ok=True, available=available - data.amount, queue=queue)

    def _place(self, user_id: int) -> QueuePlace:
        base = self.queue or QueuePlace()
        return base.model_copy(update={"fairness_key": f"user-{user_id}"})

    @implements(contract.join_queue)
    async def join_queue(self, data: QueueInput) -> QueuePlace:
        return self._place(data.user_id)

    @implements(contract.queue_place)
    async def queue_place(self, data: QueueInput) -> QueuePlace:
        self.queue_lookups += 1
        place = self.queue_places.pop(0) if self.queue_places else QueuePlace(ahead=0, queued=1)
        return place.model_copy(update={"fairness_key": f"user-{data.user_id}"})

    @implements(contract.prepare_inputs)
    async def prepare_inputs(self, data: PrepareInput) -> dict[str, Any]:
        if self.prepare_gate is not None:
            try:
                while not self.prepare_gate.is_set():
                    activity.heartbeat()
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                self.prepare_cancelled = True
                raise
        return {
            k: (f"https://kie.example/{v}" if k in data.media_fields else v) for k, v in data.inputs.items()
        }

    @implements(contract.submit_task)
    async def submit_task(self, data: SubmitInput) -> SubmitOutcome:
        self.submitted_by.append(activity.info().workflow_id)
        step = self.submit_script.pop(0) if self.submit_script else "ok"
        if step == "transient":
            raise ApplicationError("KIE 500: server error", type="KieTransient")
        if step == "reject":
            return SubmitOutcome(ok=False, reason=Reason.KIE_REJECTED, detail="400 content policy")
        if step == "operator":
            return SubmitOutcome(
                ok=False, reason=Reason.SERVICE_UNAVAILABLE, detail="402 insufficient KIE credits"
            )
        task = self.new_task()
        if step == "lost":
            raise ApplicationError("connection reset after the request was sent", type="KieTransient")
        if self.signal_before_return:
            assert self.client is not None
            handle = self.client.get_workflow_handle(activity.info().workflow_id)
            await signal_kie_callback(
                handle, KieCallbackSignal(task_id=task.task_id, callback_type="complete")
            )
        return SubmitOutcome(ok=True, task_id=task.task_id)

    @implements(contract.check_task)
    async def check_task(self, data: StatusInput) -> TaskCheck:
        self.status_calls += 1
        if self.status_unreachable:
            self.status_unreachable -= 1
            raise ApplicationError("KIE 502: bad gateway", type="KieTransient")
        task = self.tasks[data.task_id]
        task.checks += 1
        if task.succeed_at_check is not None and task.checks >= task.succeed_at_check:
            task.state = "succeeded"
        if task.progress_per_check and task.state == "in_progress":
            task.progress = min(0.99, round((task.progress or 0.0) + task.progress_per_check, 4))
        files = [ResultFile(url=f"https://kie.example/{task.task_id}.png", media_type="image")]
        if task.state == "succeeded":
            return TaskCheck(task_id=task.task_id, state="succeeded", files=files)
        if task.state == "failed":
            return TaskCheck(
                task_id=task.task_id, state="failed", fail_code="500", fail_message="upstream failed"
            )
        return TaskCheck(task_id=task.task_id, state="in_progress", progress=task.progress)

    @implements(contract.poll_tasks)
    async def poll_tasks(self, data: PollInput) -> TaskCheck:
        self.poll_attempts += 1
        return await poll(data, self.check_task)

    @implements(contract.settle_credits)
    async def settle_credits(self, data: SettleInput) -> None:
        # Keyed like the real ledger: a replay of the same settlement changes nothing.
        if any(
            gid == data.generation_id and kind in ("charge", "release") for kind, gid, _ in self.movements
        ):
            return
        self.held -= data.amount
        if data.success:
            self.balance -= data.amount
            self.movements.append(("charge", data.generation_id, data.amount))
        else:
            self.movements.append(("release", data.generation_id, data.amount))
        self.outcomes.append((data.outcome.value, data.reason.value if data.reason else None))

    @implements(contract.record_outcome)
    async def record_outcome(self, data: SettleInput) -> None:
        self.outcomes.append((data.outcome.value, data.reason.value if data.reason else None))

    @implements(contract.notify_status)
    async def notify_status(self, data: NotifyInput) -> None:
        self.notifications.append(data.stage.value)
        if data.stage.value == "queued":
            self.queue_shown.append(data.queue.ahead if data.queue else None)

    @implements(contract.deliver_result)
    async def deliver_result(self, data: DeliverInput) -> DeliveryOutcome:
        if self.deliver_failures:  # Telegram's flood control, for a while
            self.deliver_failures -= 1
            raise ApplicationError("Telegram flood control", next_retry_delay=timedelta(hours=1))
        if self.blocked:
            return DeliveryOutcome(delivered=False, failure="blocked")
        self.deliveries.append([f.url for f in data.files])
        return DeliveryOutcome(delivered=True, file_ids=["file-1"], method="url")
