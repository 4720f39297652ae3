"""The KIE tasks of one generation: every task it made or heard of, and waiting for their outcome.

KIE has no idempotency key: a create whose answer was lost may have made a task, and the retry another.
Callbacks route by generation, so a callback may name a task the generation never saw created; every task
is asked about, the first success wins and is charged once. A callback is a notification: only a status
check (``check_task``) decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.models import KieCallbackSignal, StatusInput, TaskCheck
    from workflows.policies import STATUS_RETRY

# Without a callback we poll on a widening schedule: KIE's callbacks can be lost.
POLL_SCHEDULE = (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5))


class KieTasks:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.keys: dict[str, str] = {}  # task id -> the KIE key (account) that made it
        self.pending: list[str] = []  # tasks named by callbacks, waiting to be confirmed
        self.seen_callbacks: set[tuple[str, str | None]] = set()
        self.poll_requested = False
        self.callbacks = 0
        self.polls = 0
        self.progress: float | None = None

    @property
    def last(self) -> str | None:
        return self.ids[-1] if self.ids else None

    def add(self, task_id: str, key_id: str | None = None) -> bool:
        """Remember a task (and its key); True when it is new."""
        if key_id:
            self.keys[task_id] = key_id
        if task_id in self.ids:
            return False
        self.ids.append(task_id)
        return True

    def heard(self, callback: KieCallbackSignal) -> bool:
        """A callback: True when it is news (KIE re-delivers callbacks; a duplicate costs no status check)."""
        key = (callback.task_id, callback.callback_type)
        if key in self.seen_callbacks:
            return False
        self.seen_callbacks.add(key)
        self.callbacks += 1
        if callback.task_id not in self.pending:
            self.pending.append(callback.task_id)
        return True

    def take_pending(self) -> list[str]:
        pending, self.pending = self.pending, []
        return pending

    async def outcome(
        self,
        gid: str,
        model_id: str,
        deadline_seconds: int,
        *,
        add: Callable[[str], None],
        progressed: Callable[[], Awaitable[None]],
    ) -> TaskCheck | None:
        """Wait for a callback (confirmed by a status check) or poll; None when the deadline passes.
        ``add`` takes each task a callback names; ``progressed`` runs when KIE reports new progress."""
        deadline = workflow.now() + timedelta(seconds=deadline_seconds)
        polls_done = 0
        while True:
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                # One last look before giving up: the result may be there with its callback lost.
                return await self.check_all(gid, model_id, add=add, progressed=progressed)
            interval = POLL_SCHEDULE[min(polls_done, len(POLL_SCHEDULE) - 1)]
            try:
                await workflow.wait_condition(
                    lambda: bool(self.pending) or self.poll_requested,
                    timeout=min(interval, remaining),
                    timeout_summary="next status poll",
                )
            except TimeoutError:
                polls_done += 1
            self.poll_requested = False
            final = await self.check_all(gid, model_id, add=add, progressed=progressed)
            if final is not None:
                return final

    async def check_all(
        self,
        gid: str,
        model_id: str,
        *,
        add: Callable[[str], None],
        progressed: Callable[[], Awaitable[None]],
    ) -> TaskCheck | None:
        """Ask KIE about every task; the first success wins. A failure is final only when all failed."""
        for task_id in self.take_pending():
            add(task_id)  # a callback may name a task whose create answer was lost
        failures: list[TaskCheck] = []
        for task_id in list(self.ids):
            self.polls += 1
            try:
                check = await workflow.execute_local_activity(
                    activities.check_task,
                    StatusInput(
                        generation_id=gid, model_id=model_id, task_id=task_id, key_id=self.keys.get(task_id)
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=STATUS_RETRY,
                    summary=f"ask KIE about {task_id}",
                )
            except ActivityError:
                continue  # KIE unreachable for now: keep waiting, the deadline still holds
            if check.state == "succeeded":
                return check
            if check.state == "failed":
                failures.append(check)
            elif check.progress is not None and check.progress != self.progress:
                self.progress = check.progress
                await progressed()
        if failures and len(failures) == len(self.ids):
            return failures[0]
        return None
