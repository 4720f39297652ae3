"""The simulator's state and the task lifecycle shared by every API family.

Families (``families/``) own the wire shapes; the engine owns everything else: create-time faults,
the task store, simulated time, credits, counters and when callbacks go out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from simulators.kie.callbacks import CallbackSender
from simulators.kie.config import KieSimConfig, MediaKind
from simulators.kie.envelope import account_label, account_of, error, reply
from simulators.kie.plan import FAIL_MESSAGES, create_fault, markers, plan_task
from simulators.kie.tasks import CallbackRecord, SimTask

if TYPE_CHECKING:
    from simulators.kie.families.base import Family

log = logging.getLogger("simulators.kie")


@dataclass(frozen=True)
class Upload:
    file_name: str
    mime_type: str
    data: bytes
    path: str = ""  # uploadPath/fileName, as the answer's filePath


class Engine:
    def __init__(self, config: KieSimConfig) -> None:
        self.config = config
        self.tasks: dict[str, SimTask] = {}
        self.uploads: dict[str, Upload] = {}
        self.stats: Counter[str] = Counter()
        self.credits = config.credits
        self.listen_url = "http://127.0.0.1"  # replaced by the simulator once it listens
        self.sender = CallbackSender(lambda: self.config, self.stats)
        self._seed(config.seed)
        self._recent_creates: dict[str, deque[float]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def _seed(self, seed: int | None) -> None:
        # Status queries get their own RNG: how often a client polls must not shift create outcomes.
        self.rng = random.Random(seed)
        self.status_rng = random.Random(None if seed is None else f"{seed}/status")

    # --- configuration --------------------------------------------------------------------------

    def reconfigure(self, patch: dict[str, Any]) -> KieSimConfig:
        new = self.config.patched(patch)  # raises pydantic.ValidationError on a bad patch
        if "seed" in patch:
            self._seed(new.seed)
        if "credits" in patch:
            self.credits = new.credits
        self.config = new
        return new

    def reset(self) -> None:
        """Forget every task, upload and counter (pending work is cancelled)."""
        for task in self._background:
            task.cancel()
        self.tasks.clear()
        self.uploads.clear()
        self.stats.clear()
        self.credits = self.config.credits
        self._recent_creates.clear()
        self._seed(self.config.seed)

    def url_for(self, path: str) -> str:
        return (self.config.public_base_url or self.listen_url).rstrip("/") + path

    # --- create ---------------------------------------------------------------------------------

    async def submit(
        self,
        request: web.Request,
        family: Family,
        *,
        kind: str,
        model: str,
        output: MediaKind,
        body: dict[str, Any],
        callback_url: str | None,
        n_results: int = 1,
        task_id: str | None = None,
        wire_id: str | None = None,
        answer: Callable[[SimTask], web.StreamResponse] | None = None,
    ) -> web.StreamResponse:
        """Apply create-time faults, store the task, start its clock, and answer like KIE.

        Calls that make no task of their own (Veo 1080P/4K) pass the ``task_id`` to store it under, the
        ``wire_id`` KIE names in their callbacks (and signs), and the ``answer`` their endpoint gives."""
        config = self.config
        account = account_of(request)
        self.stats["create_requests"] += 1
        if account in config.exhausted_keys:
            self.stats["create_refused_402"] += 1
            return error(config, 402, "The current credits are insufficient. Please top up.")
        marks = markers(body)
        fault = create_fault(config, self.rng, marks, over_rate_limit=self._over_rate_limit(account))
        if fault is not None:
            self.stats[f"create_refused_{fault.code}"] += 1
            log.info("create %s refused: %d %s", family.name, fault.code, fault.msg)
            if fault.http_status == 200:
                return error(config, fault.code, fault.msg)
            return reply(fault.code, fault.msg, http_status=fault.http_status)
        cost = config.credit_costs[output]
        if self.credits < cost:
            self.stats["create_refused_402"] += 1
            return error(config, 402, "The current credits are insufficient. Please top up.")

        plan = plan_task(config, self.rng, marks)
        task_id = task_id or self._new_id(family.id_style)
        loop = asyncio.get_running_loop()
        task = SimTask(
            task_id=task_id,
            family=family,
            kind=kind,
            model=model,
            output=output,
            body=body,
            callback_url=callback_url or None,
            plan=plan,
            created_at=time.time(),
            started=loop.time(),
            n_results=n_results,
            account=account,
            wire_id=wire_id,
        )
        self.tasks[task_id] = task
        self._recent_creates.setdefault(account, deque()).append(task.started)
        self.stats["tasks_created"] += 1
        self.stats[f"tasks_created_by_{account_label(account)}"] += 1
        self.spawn(self._drive(task))
        log.info("created %s task %s (%s, %s) plan=%s", family.name, task_id, model, output, plan)

        if plan.lose_answer:
            # The task exists and will run; only the answer goes missing (KIE has no idempotency key).
            self.stats["answers_lost"] += 1
            if config.lost_answer_mode == "504":
                return web.Response(status=504, text="504 Gateway Time-out")
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPInternalServerError()  # nobody reads it: the connection is gone
        if answer is not None:
            return answer(task)
        return reply(200, "success", {"taskId": task_id, **family.create_extra(task)})

    def _over_rate_limit(self, account: str) -> bool:
        """KIE's limit is per account: N creates in any sliding window (refused ones do not count)."""
        limit = self.config.rate_limit
        if limit is None:
            return False
        recent = self._recent_creates.setdefault(account, deque())
        horizon = asyncio.get_running_loop().time() - self.config.rate_window
        while recent and recent[0] < horizon:
            recent.popleft()
        return len(recent) >= limit

    def _new_id(self, style: Literal["hex", "uuid"]) -> str:
        bits = self.rng.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4)) if style == "uuid" else f"{bits:032x}"

    # --- status ---------------------------------------------------------------------------------

    def find(self, family: Family, task_id: str | None, account: str | None = None) -> SimTask | web.Response:
        """The task a status query asks about, or the error KIE would answer instead. Another account's
        task is not found, as on KIE."""
        config = self.config
        refused = self.status_fault()
        if refused is not None:
            return refused
        if not task_id:
            return error(config, 422, "taskId is required")
        task = self.tasks.get(task_id)
        if (
            task is None
            or task.family.name != family.name
            or (account is not None and task.account != account)
        ):
            return error(config, 404, "Task not found", with_data=False)
        if self.elapsed(task) < config.record_null_seconds and not task.is_final:
            return error(config, 422, "recordInfo is null")
        return task

    def status_fault(self) -> web.Response | None:
        """Count a status query; the 429 KIE answers to some of them (``status_429_share``)."""
        self.stats["status_queries"] += 1
        if self.status_rng.random() < self.config.status_429_share:
            self.stats["status_refused_429"] += 1
            return reply(429, "Rate limit exceeded", http_status=429)
        return None

    def elapsed(self, task: SimTask) -> float:
        return asyncio.get_running_loop().time() - task.started

    def progress(self, task: SimTask) -> float:
        """0..1; never 1 before the task is final."""
        if task.is_final:
            return 1.0
        if task.plan.latency <= 0:
            return 0.0
        return min(0.99, self.elapsed(task) / task.plan.latency)

    # --- lifecycle ------------------------------------------------------------------------------

    async def _drive(self, task: SimTask) -> None:
        """Walk the family's in-progress stages evenly over the latency, then finish the task."""
        stages = len(task.family.stages)
        for step in range(1, stages + 1):
            if not await self._sleep_until(task, task.started + task.plan.latency * step / stages):
                break  # forced to complete
            if step < stages:
                task.stage, task.updated_at = step, time.time()
                staged = task.family.stage_callback(task)
                if staged is not None:
                    self._emit(task, *staged)
        self.finalize(task)

    @staticmethod
    async def _sleep_until(task: SimTask, deadline: float) -> bool:
        """False when the task was forced to complete before ``deadline``."""
        timeout = deadline - asyncio.get_running_loop().time()
        if task.forced.is_set():
            return False
        if timeout <= 0:
            return True
        try:
            await asyncio.wait_for(task.forced.wait(), timeout)
        except TimeoutError:
            return True
        return False

    def force_complete(
        self, task: SimTask, outcome: Literal["success", "fail"] | None, code: int | None, msg: str | None
    ) -> None:
        """Finish a task now, optionally overriding its planned outcome."""
        if outcome == "fail" or (outcome is None and code is not None):
            task.plan.fail_code = code or task.plan.fail_code or 500
            task.plan.fail_msg = msg or FAIL_MESSAGES.get(task.plan.fail_code, "Generation failed")
        elif outcome == "success":
            task.plan.fail_code, task.plan.fail_msg = None, ""
        task.forced.set()
        self.finalize(task)

    def finalize(self, task: SimTask) -> None:
        if task.is_final:
            return
        task.completed_at = task.updated_at = time.time()
        if task.plan.fails:
            task.outcome, task.fail_code, task.fail_msg = "fail", task.plan.fail_code, task.plan.fail_msg
            self.stats["tasks_failed"] += 1
        else:
            # KIE bills successes only (the failure callback says consumeCredits 0).
            task.consumed_credits = self.config.credit_costs[task.output]
            self.credits = max(0, self.credits - task.consumed_credits)
            task.outcome = "success"
            self.stats["tasks_succeeded"] += 1
        task.remained_credits = self.credits
        log.info("task %s final: %s %s", task.task_id, task.outcome, task.fail_code or "")
        task.finished.set()
        self._emit(task, *task.family.final_callback(task), final=True)
        self._check_settled(task)

    # --- callbacks ------------------------------------------------------------------------------

    def _emit(self, task: SimTask, label: str, body: dict[str, Any], *, final: bool = False) -> None:
        if not task.callback_url:
            return
        if task.plan.callback_lost:
            self.stats["callbacks_lost"] += 1
            task.callbacks.append(CallbackRecord(label, 1, 0, int(time.time() * 1000), outcome="lost"))
            return
        if task.plan.out_of_order and not final:
            task.deferred.append((label, body))  # released, reversed, after the final one
            return
        batch = [(label, body)]
        if final:
            batch += reversed(task.deferred)
            task.deferred.clear()
        task.pending_deliveries += 1
        self.spawn(self._deliver_in_order(task, batch))

    async def _deliver_in_order(self, task: SimTask, batch: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            for label, body in batch:
                await self.sender.deliver(task, label, body)
        finally:
            task.pending_deliveries -= 1
            self._check_settled(task)

    @staticmethod
    def _check_settled(task: SimTask) -> None:
        if task.is_final and not task.pending_deliveries:
            task.settled.set()

    # --- background work ------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        job = asyncio.get_running_loop().create_task(coro)
        self._background.add(job)
        job.add_done_callback(self._reap)

    def _reap(self, job: asyncio.Task[Any]) -> None:
        self._background.discard(job)
        if not job.cancelled() and job.exception() is not None:
            self.stats["internal_errors"] += 1
            log.error("background job failed", exc_info=job.exception())

    async def open(self) -> None:
        await self.sender.open()

    async def close(self) -> None:
        jobs = list(self._background)
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        await self.sender.close()
