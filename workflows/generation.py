"""GenerationWorkflow: one generation, from the user's confirmation to the result in the chat.

validate → hold credits → prepare inputs → submit to KIE → await callback or poll → charge or release →
deliver. Decisions live here; every side effect is an activity with its own timeouts and retry policy.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.generation import (
        CANCEL,
        GENERATION_STAGE,
        KIE_CALLBACK,
        KIE_TASK_ID,
        POLL_NOW,
        STATUS,
    )
    from contracts.models import (
        CancelResult,
        DeliverInput,
        GenerationRequest,
        GenerationResult,
        GenerationStatus,
        HoldInput,
        KieCallbackSignal,
        NotifyInput,
        Outcome,
        PrepareInput,
        QueueInput,
        QueuePlace,
        Reason,
        ResultFile,
        SettleInput,
        Stage,
        StatusInput,
        SubmitInput,
        TaskCheck,
        ValidatedGeneration,
        ValidateInput,
    )
    from contracts.queues import kie_task_queue, telegram_task_queue

# Without a callback we poll on a widening schedule: KIE's callbacks can be lost.
POLL_SCHEDULE = (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5))
# GenerationStage as a search attribute: every upsert is a billable action, so only the stages operators
# search by (started, waiting on KIE, finished). The fine stage is in the status query, the details and the
# generations row.
SEARCHABLE_STAGES = {Stage.QUEUED, Stage.WAITING, Stage.DONE, Stage.FAILED, Stage.CANCELLED, Stage.REJECTED}
# Stages after which a cancel request is refused: a KIE task may already exist and cost money. In the queue
# the submit has not started; a cancel that loses the race to it is answered by the task's result.
CANCELLABLE = {Stage.VALIDATING, Stage.HOLDING, Stage.PREPARING, Stage.QUEUED}

# The steps that only touch PostgreSQL or ask KIE about a task run as local activities: in the worker that
# runs the workflow, without a round trip through a task queue: a third less server CPU per generation
# (docs/performance.md). They are retried like any activity, and each is idempotent by its business key.
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Money must move: retry until it does (bounded by schedule_to_close), never give up after N attempts.
MONEY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
KIE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
STATUS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
DELIVER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2))


# Outside the sandbox: re-importing this module into a sandbox for every run cost a third of the worker's CPU
# per generation (docs/performance.md). Determinism is guarded by tests/test_replay.py (recorded histories)
# and tests/workflows/test_determinism_guard.py (what this module may import and call).
@workflow.defn(sandboxed=False)
class GenerationWorkflow:
    def __init__(self) -> None:
        self._stage = Stage.VALIDATING
        self._request: GenerationRequest | None = None
        self._validated: ValidatedGeneration | None = None
        self._task_ids: list[str] = []
        self._task_keys: dict[str, str] = {}  # task id -> the KIE key that made it
        self._seen_callbacks: set[tuple[str, str | None]] = set()
        self._pending_tasks: list[str] = []  # tasks named by callbacks, waiting to be confirmed
        self._poll_requested = False
        self._cancel_requested = False
        self._callbacks = 0
        self._polls = 0
        self._progress: float | None = None
        self._result: GenerationResult | None = None
        self._timeline: list[str] = []
        self._search_attributes = False
        self._queue: QueuePlace | None = None

    # ---- the run -----------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, request: GenerationRequest) -> GenerationResult:
        self._request = request
        info = workflow.info()
        # Starters register search attributes at start (see workflows.starter). A test server that does not
        # know them starts without: upserting an unknown attribute would fail every workflow task.
        self._search_attributes = info.typed_search_attributes.get(GENERATION_STAGE) is not None
        gid = info.workflow_id
        self._mark(Stage.VALIDATING, f"requested {request.model_id}")

        validated = await workflow.execute_local_activity(
            activities.validate_generation,
            ValidateInput(generation_id=gid, request=request),
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=QUICK_RETRY,
            schedule_to_close_timeout=timedelta(minutes=10),
            summary="validate inputs and price",
        )
        self._validated = validated
        if not validated.ok:
            detail = "; ".join(f"{e.get('field')}: {e.get('rule')}" for e in validated.errors) or None
            reason = (
                Reason.MODEL_UNAVAILABLE
                if any(e.get("rule") in ("disabled_model", "unknown_model") for e in validated.errors)
                else Reason.INVALID_INPUT
            )
            return await self._finish_without_hold(Outcome.REJECTED, reason, detail)
        if self._cancel_requested:
            return await self._finish_without_hold(Outcome.CANCELLED, Reason.CANCELLED)

        self._mark(
            Stage.HOLDING, f"price {validated.price}" + (" (free allowance)" if validated.free else "")
        )
        hold = await workflow.execute_local_activity(
            activities.hold_credits,
            HoldInput(
                generation_id=gid,
                user_id=request.user_id,
                amount=validated.price,
                free=validated.free,
                free_daily_allowance=validated.free_daily_allowance,
                enter_queue=not validated.media_fields,
            ),
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=MONEY_RETRY,
            schedule_to_close_timeout=timedelta(minutes=30),
            summary="hold credits",
        )
        if not hold.ok:
            return await self._finish_without_hold(
                Outcome.REJECTED, hold.reason or Reason.INSUFFICIENT_CREDITS, shortfall=hold.shortfall
            )

        # From here on a hold exists: every path below ends in exactly one charge or release.
        inputs = validated.inputs
        queue = hold.queue
        if self._cancel_requested:
            return await self._settle_failure(Outcome.CANCELLED, Reason.CANCELLED)
        if validated.media_fields:
            self._mark(Stage.PREPARING, "uploading the user's media to KIE")
            await self._notify(Stage.PREPARING, cancellable=True)
            try:
                inputs = await self._prepare(gid, inputs, validated.media_fields)
            except ActivityError as err:
                return await self._settle_failure(Outcome.FAILED, Reason.INPUT_MEDIA_FAILED, _cause(err))
            if inputs is None:
                return await self._settle_failure(Outcome.CANCELLED, Reason.CANCELLED)
            if workflow.patched("submit-queue"):
                queue = await workflow.execute_local_activity(
                    activities.join_queue,
                    QueueInput(generation_id=gid, user_id=request.user_id),
                    start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=QUICK_RETRY,
                    schedule_to_close_timeout=timedelta(minutes=10),
                    summary="join the KIE submit queue",
                )

        self._mark(Stage.SUBMITTING, "creating the KIE task")
        submit = workflow.start_activity(
            activities.submit_task,
            SubmitInput(generation_id=gid, model_id=request.model_id, inputs=inputs),
            # Dispatched fairly per user at the rate all KIE keys allow together, server-side (worker.py).
            task_queue=kie_task_queue(info.task_queue),
            priority=Priority(
                priority_key=queue.priority_key,
                fairness_key=queue.fairness_key,
                fairness_weight=queue.fairness_weight,
            )
            if queue
            else Priority.default,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=KIE_RETRY,
            # Covers the wait in the queue too: a surge of an hour still gets its turn.
            schedule_to_close_timeout=timedelta(hours=2) if queue else timedelta(minutes=30),
            # A cancel while queued must learn whether the submit already ran (a task costs money).
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary="create the KIE task",
        )
        if queue is not None and queue.wait_seconds >= queue.refresh_seconds:
            await self._wait_in_queue(gid, submit, queue)
        try:
            submitted = await submit
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                return await self._settle_failure(Outcome.CANCELLED, Reason.CANCELLED)
            # Out of retries on transient errors. A lost answer may still have made a task: a callback for it
            # after this point finds the workflow closed and changes nothing; the user is refunded.
            return await self._settle_failure(Outcome.FAILED, Reason.SERVICE_UNAVAILABLE, _cause(err))
        if not submitted.ok or not submitted.task_id:
            return await self._settle_failure(
                Outcome.FAILED, submitted.reason or Reason.KIE_REJECTED, submitted.detail
            )
        self._add_task(submitted.task_id, submitted.key_id)

        self._mark(
            Stage.WAITING,
            f"KIE task {submitted.task_id}" + (f" (key {submitted.key_id})" if submitted.key_id else ""),
        )
        await self._notify(Stage.WAITING)
        final = await self._await_result(gid, request.model_id, validated.deadline_seconds)
        if final is None:
            return await self._settle_failure(
                Outcome.FAILED, Reason.TIMED_OUT, "no result before the deadline"
            )
        if final.state == "failed":
            return await self._settle_failure(
                Outcome.FAILED,
                Reason.GENERATION_FAILED,
                f"{final.fail_code or ''} {final.fail_message or ''}".strip() or None,
                task_id=final.task_id,
            )

        result = await self._settle(
            success=True, outcome=Outcome.SUCCEEDED, task_id=final.task_id, files=final.files
        )
        self._mark(Stage.DELIVERING, f"{len(final.files)} file(s) from task {final.task_id}")
        delivery = await workflow.execute_activity(
            activities.deliver_result,
            DeliverInput(
                generation_id=gid,
                chat_id=request.chat_id,
                language=request.language,
                model_id=request.model_id,
                status_message_id=request.status_message_id,
                files=final.files,
                price=validated.price,
            ),
            task_queue=telegram_task_queue(info.task_queue),
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=DELIVER_RETRY,
            schedule_to_close_timeout=timedelta(hours=2),
            summary="send the result to the chat",
        )
        result.delivered = delivery.delivered
        self._mark(Stage.DONE, "delivered" if delivery.delivered else f"not delivered: {delivery.failure}")
        return await self._close(result)

    # ---- signals, updates, queries -------------------------------------------------------------------------
    @workflow.signal(
        name=KIE_CALLBACK,
        description="A KIE callback arrived for a task of this generation (confirmed by polling).",
    )
    def kie_callback(self, callback: KieCallbackSignal) -> None:
        key = (callback.task_id, callback.callback_type)
        if key in self._seen_callbacks or self._result is not None:
            return  # KIE re-delivers callbacks; a duplicate must not cost another status check
        self._seen_callbacks.add(key)
        self._callbacks += 1
        if callback.reported:
            self._mark(self._stage, f"KIE called back about {callback.task_id}: {callback.reported}")
        if callback.task_id not in self._pending_tasks:
            self._pending_tasks.append(callback.task_id)

    @workflow.signal(
        name=POLL_NOW, description="Operators: ask KIE for the task status now instead of waiting."
    )
    def poll_now(self) -> None:
        self._poll_requested = True

    @workflow.update(name=CANCEL, description="The user cancels; accepted until the KIE task is submitted.")
    def cancel(self) -> CancelResult:
        self._cancel_requested = True
        self._mark(self._stage, "cancel requested by the user")
        return CancelResult(accepted=True, stage=self._stage)

    @cancel.validator
    def _validate_cancel(self) -> None:
        if self._stage not in CANCELLABLE or self._result is not None:
            raise ValueError(f"too late to cancel: the generation is {self._stage.value}")

    @workflow.query(name=STATUS, description="The whole state of this generation.")
    def status(self) -> GenerationStatus:
        request = self._request
        validated = self._validated
        return GenerationStatus(
            generation_id=workflow.info().workflow_id,
            stage=self._stage,
            model_id=request.model_id if request else "",
            price=validated.price if validated and validated.ok else None,
            free=bool(validated and validated.free),
            task_ids=list(self._task_ids),
            progress=self._progress,
            callbacks_received=self._callbacks,
            polls=self._polls,
            cancel_requested=self._cancel_requested,
            queue=self._queue,
            result=self._result,
        )

    # ---- steps -------------------------------------------------------------------------------------------
    async def _prepare(self, gid: str, inputs: dict, media_fields: list[str]) -> dict | None:
        """Upload the user's media; returns None when the user cancelled meanwhile."""
        assert self._request is not None
        upload = workflow.start_activity(
            activities.prepare_inputs,
            PrepareInput(
                generation_id=gid, model_id=self._request.model_id, inputs=inputs, media_fields=media_fields
            ),
            task_queue=telegram_task_queue(workflow.info().task_queue),
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=5),
            summary="upload the user's media to KIE",
        )
        cancelled = asyncio.ensure_future(workflow.wait_condition(lambda: self._cancel_requested))
        await workflow.wait([upload, cancelled], return_when=asyncio.FIRST_COMPLETED)
        if upload.done():
            cancelled.cancel()
            return upload.result()
        upload.cancel()
        return None

    async def _wait_in_queue(self, gid: str, submit: workflow.ActivityHandle, queue: QueuePlace) -> None:
        """While the submit waits for its slot: stage ``queued``, and the place in the status message,
        looked up again every ``queue.refresh_seconds`` (the activity spreads edits under Telegram's limit).
        A cancel while queued cancels the submit; if it had already started, its task is kept."""
        assert self._request is not None
        self._queue = queue
        self._mark(
            Stage.QUEUED, f"{queue.ahead} ahead of {queue.queued} queued, about {queue.wait_seconds:.0f} s"
        )
        # The bot's status message already says "in the queue"; the first update comes at a random point of
        # the first refresh interval (after the user's earlier ones), so that a surge's thousand timers do
        # not all fire in the same second.
        shown: int | None = None  # the place the status message shows
        first = queue.first_notice_seconds + queue.refresh_seconds * workflow.random().random()
        while not submit.done():
            wait = queue.refresh_seconds if shown is not None else first
            try:
                await workflow.wait_condition(
                    lambda: submit.done() or self._cancel_requested,
                    timeout=timedelta(seconds=wait),
                    timeout_summary="look at the queue again",
                )
            except TimeoutError:
                pass
            if submit.done():
                break
            if self._cancel_requested:
                submit.cancel()
                break
            queue = await workflow.execute_local_activity(
                activities.queue_place,
                QueueInput(generation_id=gid, user_id=self._request.user_id),
                start_to_close_timeout=timedelta(seconds=15),
                retry_policy=QUICK_RETRY,
                schedule_to_close_timeout=timedelta(minutes=5),
                summary="place in the KIE queue",
            )
            self._queue = queue
            if queue.queued and queue.ahead != shown:
                shown = queue.ahead
                await self._notify(Stage.QUEUED, cancellable=True)
        self._queue = None

    async def _await_result(self, gid: str, model_id: str, deadline_seconds: int) -> TaskCheck | None:
        """Wait for a callback (confirmed by a status check) or poll; None when the deadline passes."""
        deadline = workflow.now() + timedelta(seconds=deadline_seconds)
        polls_done = 0
        while True:
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                # One last look before giving up: the result may be there with its callback lost.
                return await self._check_all(gid, model_id)
            interval = POLL_SCHEDULE[min(polls_done, len(POLL_SCHEDULE) - 1)]
            try:
                await workflow.wait_condition(
                    lambda: bool(self._pending_tasks) or self._poll_requested,
                    timeout=min(interval, remaining),
                    timeout_summary="next status poll",
                )
            except TimeoutError:
                polls_done += 1
            self._poll_requested = False
            final = await self._check_all(gid, model_id)
            if final is not None:
                return final

    async def _check_all(self, gid: str, model_id: str) -> TaskCheck | None:
        """Ask KIE about every task this generation created; the first success wins, charged once."""
        for task_id in self._pending_tasks:
            self._add_task(task_id)  # a callback may name a task whose create answer was lost
        self._pending_tasks.clear()
        failures: list[TaskCheck] = []
        for task_id in list(self._task_ids):
            self._polls += 1
            try:
                check = await workflow.execute_local_activity(
                    activities.check_task,
                    StatusInput(
                        generation_id=gid,
                        model_id=model_id,
                        task_id=task_id,
                        key_id=self._task_keys.get(task_id),
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
            elif check.progress is not None and check.progress != self._progress:
                self._progress = check.progress
                await self._notify(Stage.WAITING)
        if failures and len(failures) == len(self._task_ids):
            return failures[0]
        return None

    def _add_task(self, task_id: str, key_id: str | None = None) -> None:
        if key_id:
            self._task_keys[task_id] = key_id
        if task_id in self._task_ids:
            return
        self._task_ids.append(task_id)
        if len(self._task_ids) > 1:
            self._mark(self._stage, f"another KIE task reported: {task_id}")
        # The first task id goes with the waiting_kie upsert; a later one (a lost answer's) on its own.
        if self._search_attributes and self._stage == Stage.WAITING:
            workflow.upsert_search_attributes([KIE_TASK_ID.value_set(task_id)])

    async def _settle(
        self,
        *,
        success: bool,
        outcome: Outcome,
        reason: Reason | None = None,
        detail: str | None = None,
        task_id: str | None = None,
        files: list[ResultFile] | None = None,
    ) -> GenerationResult:
        assert self._request is not None and self._validated is not None
        self._mark(Stage.SETTLING, "charging" if success else "releasing the hold")
        await workflow.execute_local_activity(
            activities.settle_credits,
            SettleInput(
                generation_id=workflow.info().workflow_id,
                user_id=self._request.user_id,
                success=success,
                free=self._validated.free,
                amount=self._validated.price,
                outcome=outcome,
                reason=reason,
                detail=detail,
                task_id=task_id,
                files=files or [],
            ),
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=MONEY_RETRY,
            schedule_to_close_timeout=timedelta(days=7),
            summary="charge" if success else "release the hold",
        )
        return GenerationResult(
            generation_id=workflow.info().workflow_id,
            outcome=outcome,
            reason=reason,
            detail=detail,
            price=self._validated.price,
            charged=success and not self._validated.free,
            task_id=task_id,
            files=files or [],
        )

    async def _settle_failure(
        self, outcome: Outcome, reason: Reason, detail: str | None = None, task_id: str | None = None
    ) -> GenerationResult:
        result = await self._settle(
            success=False, outcome=outcome, reason=reason, detail=detail, task_id=task_id
        )
        stage = Stage.CANCELLED if outcome == Outcome.CANCELLED else Stage.FAILED
        self._mark(stage, f"{reason.value}" + (f": {detail}" if detail else ""))
        await self._notify(stage, reason=reason)
        return await self._close(result)

    async def _finish_without_hold(
        self, outcome: Outcome, reason: Reason, detail: str | None = None, shortfall: int | None = None
    ) -> GenerationResult:
        """Nothing was held: record the outcome on the generation row and tell the user."""
        assert self._request is not None
        gid = workflow.info().workflow_id
        await workflow.execute_local_activity(
            activities.record_outcome,
            SettleInput(
                generation_id=gid,
                user_id=self._request.user_id,
                success=False,
                free=False,
                amount=0,
                outcome=outcome,
                reason=reason,
                detail=detail,
            ),
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=MONEY_RETRY,
            schedule_to_close_timeout=timedelta(days=1),
            summary="record the outcome",
        )
        stage = Stage.CANCELLED if outcome == Outcome.CANCELLED else Stage.REJECTED
        self._mark(stage, f"{reason.value}" + (f": {detail}" if detail else ""))
        await self._notify(stage, reason=reason, shortfall=shortfall)
        return await self._close(
            GenerationResult(generation_id=gid, outcome=outcome, reason=reason, detail=detail)
        )

    async def _notify(
        self,
        stage: Stage,
        *,
        cancellable: bool = False,
        reason: Reason | None = None,
        shortfall: int | None = None,
    ) -> None:
        """Edit the chat's status message. Best effort: a failure here never fails the generation."""
        request = self._request
        if request is None:
            return
        try:
            await workflow.execute_activity(
                activities.notify_status,
                NotifyInput(
                    generation_id=workflow.info().workflow_id,
                    chat_id=request.chat_id,
                    message_id=request.status_message_id,
                    language=request.language,
                    stage=stage,
                    model_id=request.model_id,
                    progress=self._progress,
                    cancellable=cancellable,
                    reason=reason,
                    shortfall=shortfall,
                    queue=self._queue if stage == Stage.QUEUED else None,
                ),
                task_queue=telegram_task_queue(workflow.info().task_queue),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=NOTIFY_RETRY,
                summary=f"status message: {stage.value}",
            )
        except ActivityError:
            workflow.logger.warning("status message not updated", extra={"stage": stage.value})

    async def _close(self, result: GenerationResult) -> GenerationResult:
        self._result = result
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    def _mark(self, stage: Stage, note: str) -> None:
        """Move to ``stage`` and append to the timeline the Temporal UI shows as current details."""
        changed = stage != self._stage
        self._stage = stage
        self._timeline.append(f"- `{workflow.now():%H:%M:%S}` **{stage.value}** — {note}")
        workflow.set_current_details("\n".join(self._timeline[-30:]))
        if changed and self._search_attributes and stage in SEARCHABLE_STAGES:
            updates = [GENERATION_STAGE.value_set(stage.value)]
            if stage == Stage.WAITING and self._task_ids:
                updates.append(KIE_TASK_ID.value_set(self._task_ids[-1]))
            workflow.upsert_search_attributes(updates)  # one command, one action


def _cause(err: ActivityError) -> str:
    cause = err.cause
    return str(cause.message if cause is not None and hasattr(cause, "message") else err)
