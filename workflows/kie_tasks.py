"""The KIE tasks of one generation: every task it made or heard of, and waiting for their outcome.

KIE has no idempotency key: a create whose answer was lost may have made a task, and the retry another.
Callbacks route by generation, so a callback may name a task the generation never saw created; every task
is asked about, the first success wins and is charged once. A callback is a notification: only a status
check (``check_task``) decides.

Without a callback in the first 30 s, the ``poll_tasks`` activity polls, retried by Temporal on the poll
schedule (``contracts.polling``): a generation waiting for KIE then costs its worker no workflow task, and
an evicted one is not replayed, until there is news (a callback, a poll request, a final state, progress by
a step, or the deadline).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.models import KieCallbackSignal, PollInput, StatusInput, TaskCheck
    from contracts.polling import poll_delay
    from workflows.policies import POLL_RETRY, STATUS_RETRY

# The patch that moved polling into an activity: histories from before it polled with a timer per poll, and
# replay so (tests/histories/*_timers.json).
POLL_BY_ACTIVITY = "poll-by-activity"

Progressed = Callable[[], Awaitable[None]]


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
        progressed: Progressed,
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
            try:
                await workflow.wait_condition(
                    lambda: bool(self.pending) or self.poll_requested,
                    timeout=min(poll_delay(polls_done), remaining),
                    timeout_summary="next status poll",
                )
            except TimeoutError:
                polls_done += 1
                if workflow.patched(POLL_BY_ACTIVITY):
                    return await self._poll(gid, model_id, deadline, add=add, progressed=progressed)
            self.poll_requested = False
            final = await self.check_all(gid, model_id, add=add, progressed=progressed)
            if final is not None:
                return final

    async def _poll(
        self,
        gid: str,
        model_id: str,
        deadline: datetime,
        *,
        add: Callable[[str], None],
        progressed: Progressed,
    ) -> TaskCheck | None:
        """Wait with ``poll_tasks`` running; callbacks and poll requests are still checked at once."""
        poll: workflow.ActivityHandle[TaskCheck] | None = None
        polling = True  # until the poll activity gives up (the deadline is near): then callbacks only
        attempts = 0  # of poll activities so far: where on the poll schedule the next one's retries start
        asked = 0  # tasks the running poll asks about
        try:
            while (remaining := deadline - workflow.now()) > timedelta(0):
                if poll is None and polling:
                    asked = len(self.ids)
                    poll = self._start_poll(gid, model_id, remaining, attempts)
                try:
                    await workflow.wait_condition(
                        self._woken_by(poll),
                        timeout=remaining,
                        timeout_summary="the generation's deadline",
                    )
                except TimeoutError:
                    break
                if poll is not None and poll.done():
                    finished, poll = poll, None
                    try:
                        news = finished.result()
                    except ActivityError:
                        polling = False  # no time left for another poll; the last look is at the deadline
                        continue
                    self.polls += news.polls * asked
                    attempts += news.polls
                    if news.state in ("succeeded", "failed"):
                        return news
                    self.progress = news.progress
                    await progressed()
                    continue
                self.poll_requested = False
                before = (list(self.ids), self.progress)
                final = await self.check_all(gid, model_id, add=add, progressed=progressed)
                if final is not None:
                    return final
                if poll is not None and (list(self.ids), self.progress) != before:
                    await _cancel(poll)  # it asks about the old tasks, or would report shown progress
                    poll = None
        finally:
            if poll is not None and not poll.done():
                await _cancel(poll)
        # One last look before giving up: the result may be there with its callback lost.
        return await self.check_all(gid, model_id, add=add, progressed=progressed)

    def _woken_by(self, poll: workflow.ActivityHandle[TaskCheck] | None) -> Callable[[], bool]:
        """What ends a wait: a callback, a poll request, or the poll activity's answer."""
        return lambda: bool(self.pending) or self.poll_requested or (poll is not None and poll.done())

    def _start_poll(
        self, gid: str, model_id: str, remaining: timedelta, polls_before: int
    ) -> workflow.ActivityHandle[TaskCheck]:
        return workflow.start_activity(
            activities.poll_tasks,
            PollInput(
                generation_id=gid,
                model_id=model_id,
                task_ids=list(self.ids),
                keys=dict(self.keys),
                shown_progress=self.progress,
                polls_before=polls_before,
            ),
            # A few status reads; a poll lost with its worker is tried again after this.
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=remaining,
            retry_policy=POLL_RETRY,
            cancellation_type=workflow.ActivityCancellationType.TRY_CANCEL,
            summary="poll KIE until the task ends",
        )

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


async def _cancel(poll: workflow.ActivityHandle[TaskCheck]) -> None:
    """Stop a poll: Temporal schedules no more of its retries."""
    poll.cancel()
    try:
        await poll
    except (ActivityError, asyncio.CancelledError):
        pass
