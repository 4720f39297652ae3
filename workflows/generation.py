"""GenerationWorkflow: one generation, from the user's confirmation to the result in the chat.

validate → hold credits → prepare inputs → submit to KIE → await callback or poll → charge or release →
deliver. Decisions live here; every side effect is an activity with its own timeouts and retry policy.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from contracts.generation import CANCEL, GENERATION_STAGE, KIE_CALLBACK, POLL_NOW, STATUS
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
        SubmitInput,
        ValidatedGeneration,
        ValidateInput,
    )
    from workflows import generation_steps as steps
    from workflows.kie_tasks import KieTasks
    from workflows.timeline import Timeline

# Stages after which a cancel request is refused: a KIE task may already exist and cost money. In the queue
# the submit has not started; a cancel that loses the race to it is answered by the task's result.
CANCELLABLE = {Stage.VALIDATING, Stage.HOLDING, Stage.PREPARING, Stage.QUEUED}


# Outside the sandbox: re-importing this module into a sandbox for every run cost a third of the worker's CPU
# per generation (docs/performance.md). Determinism is guarded by tests/test_replay.py (recorded histories)
# and tests/workflows/test_determinism_guard.py (what this module may import and call).
@workflow.defn(sandboxed=False)
class GenerationWorkflow:
    def __init__(self) -> None:
        self._timeline = Timeline()
        self._tasks = KieTasks()
        self._request: GenerationRequest | None = None
        self._validated: ValidatedGeneration | None = None
        self._cancel_requested = False
        self._result: GenerationResult | None = None
        self._queue: QueuePlace | None = None

    # ---- the run -----------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, request: GenerationRequest) -> GenerationResult:
        self._request = request
        info = workflow.info()
        self._timeline.searchable = info.typed_search_attributes.get(GENERATION_STAGE) is not None
        gid = info.workflow_id
        self._mark(Stage.VALIDATING, f"requested {request.model_id}")

        validated = await steps.validate(ValidateInput(generation_id=gid, request=request))
        self._validated = validated
        if not validated.ok:
            return await self._finish_without_hold(Outcome.REJECTED, validated.refusal, validated.problems)
        if self._cancel_requested:
            return await self._finish_without_hold(Outcome.CANCELLED, Reason.CANCELLED)

        self._mark(
            Stage.HOLDING, f"price {validated.price}" + (" (free allowance)" if validated.free else "")
        )
        hold = await steps.hold(
            HoldInput(
                generation_id=gid,
                user_id=request.user_id,
                amount=validated.price,
                free=validated.free,
                free_daily_allowance=validated.free_daily_allowance,
                enter_queue=not validated.media_fields,
            )
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
                prepared = await self._prepare(gid, inputs, validated.media_fields)
            except ActivityError as err:
                return await self._settle_failure(
                    Outcome.FAILED, Reason.INPUT_MEDIA_FAILED, steps.failure_text(err)
                )
            if prepared is None:
                return await self._settle_failure(Outcome.CANCELLED, Reason.CANCELLED)
            inputs = prepared
            if workflow.patched("submit-queue"):
                queue = await steps.join_queue(QueueInput(generation_id=gid, user_id=request.user_id))

        self._mark(Stage.SUBMITTING, "creating the KIE task")
        submit = steps.submit(SubmitInput(generation_id=gid, model_id=request.model_id, inputs=inputs), queue)
        if queue is not None and queue.wait_seconds >= queue.refresh_seconds:
            await self._wait_in_queue(gid, submit, queue)
        try:
            submitted = await submit
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                return await self._settle_failure(Outcome.CANCELLED, Reason.CANCELLED)
            # Out of retries on transient errors. A lost answer may still have made a task: a callback for it
            # after this point finds the workflow closed and changes nothing; the user is refunded.
            return await self._settle_failure(
                Outcome.FAILED, Reason.SERVICE_UNAVAILABLE, steps.failure_text(err)
            )
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
        final = await self._tasks.outcome(
            gid,
            request.model_id,
            validated.deadline_seconds,
            add=self._add_task,
            progressed=lambda: self._notify(Stage.WAITING),
        )
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
        delivery = await steps.deliver(
            DeliverInput(
                generation_id=gid,
                chat_id=request.chat_id,
                language=request.language,
                model_id=request.model_id,
                status_message_id=request.status_message_id,
                files=final.files,
                price=validated.price,
                offer_follow_ups=not request.quiet,
            )
        )
        result.delivered, result.file_ids = delivery.delivered, delivery.file_ids
        self._mark(Stage.DONE, "delivered" if delivery.delivered else f"not delivered: {delivery.failure}")
        return await self._close(result)

    # ---- signals, updates, queries -------------------------------------------------------------------------
    @workflow.signal(
        name=KIE_CALLBACK,
        description="A KIE callback arrived for a task of this generation (confirmed by polling).",
    )
    def kie_callback(self, callback: KieCallbackSignal) -> None:
        if self._result is not None or not self._tasks.heard(callback):
            return  # finished, or KIE re-delivered it
        if callback.reported:
            self._timeline.note(f"KIE called back about {callback.task_id}: {callback.reported}")

    @workflow.signal(
        name=POLL_NOW, description="Operators: ask KIE for the task status now instead of waiting."
    )
    def poll_now(self) -> None:
        self._tasks.poll_requested = True

    @workflow.update(name=CANCEL, description="The user cancels; accepted until the KIE task is submitted.")
    def cancel(self) -> CancelResult:
        self._cancel_requested = True
        self._timeline.note("cancel requested by the user")
        return CancelResult(accepted=True, stage=self._timeline.stage)

    @cancel.validator
    def _validate_cancel(self) -> None:
        if self._timeline.stage not in CANCELLABLE or self._result is not None:
            raise ValueError(f"too late to cancel: the generation is {self._timeline.stage.value}")

    @workflow.query(name=STATUS, description="The whole state of this generation.")
    def status(self) -> GenerationStatus:
        request = self._request
        validated = self._validated
        return GenerationStatus(
            generation_id=workflow.info().workflow_id,
            stage=self._timeline.stage,
            model_id=request.model_id if request else "",
            price=validated.price if validated and validated.ok else None,
            free=bool(validated and validated.free),
            task_ids=list(self._tasks.ids),
            progress=self._tasks.progress,
            callbacks_received=self._tasks.callbacks,
            polls=self._tasks.polls,
            cancel_requested=self._cancel_requested,
            queue=self._queue,
            result=self._result,
        )

    # ---- steps -------------------------------------------------------------------------------------------
    async def _prepare(self, gid: str, inputs: steps.Inputs, media_fields: list[str]) -> steps.Inputs | None:
        """Upload the user's media; returns None when the user cancelled meanwhile."""
        assert self._request is not None
        upload = steps.prepare(
            PrepareInput(
                generation_id=gid, model_id=self._request.model_id, inputs=inputs, media_fields=media_fields
            )
        )
        cancelled = asyncio.ensure_future(workflow.wait_condition(lambda: self._cancel_requested))
        await workflow.wait([upload, cancelled], return_when=asyncio.FIRST_COMPLETED)
        if upload.done():
            cancelled.cancel()
            return upload.result()
        upload.cancel()
        return None

    async def _wait_in_queue(self, gid: str, submit: steps.SubmitHandle, queue: QueuePlace) -> None:
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
            queue = await steps.queue_place(QueueInput(generation_id=gid, user_id=self._request.user_id))
            self._queue = queue
            if queue.queued and queue.ahead != shown:
                shown = queue.ahead
                await self._notify(Stage.QUEUED, cancellable=True)
        self._queue = None

    def _add_task(self, task_id: str, key_id: str | None = None) -> None:
        if not self._tasks.add(task_id, key_id):
            return
        if len(self._tasks.ids) > 1:
            self._timeline.note(f"another KIE task reported: {task_id}")
        # The first task id goes with the waiting_kie upsert; a later one (a lost answer's) on its own.
        self._timeline.task_found(task_id)

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
        await steps.settle(
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
            )
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
            produced_at=workflow.now() if success else None,
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
        await steps.record_outcome(
            SettleInput(
                generation_id=gid,
                user_id=self._request.user_id,
                success=False,
                free=False,
                amount=0,
                outcome=outcome,
                reason=reason,
                detail=detail,
            )
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
        if request is None or request.quiet:  # a recipe's step: the recipe's message tells the user
            return
        try:
            await steps.notify(
                NotifyInput(
                    generation_id=workflow.info().workflow_id,
                    chat_id=request.chat_id,
                    message_id=request.status_message_id,
                    language=request.language,
                    stage=stage,
                    model_id=request.model_id,
                    progress=self._tasks.progress,
                    cancellable=cancellable,
                    reason=reason,
                    shortfall=shortfall,
                    queue=self._queue if stage == Stage.QUEUED else None,
                )
            )
        except ActivityError:
            workflow.logger.warning("status message not updated", extra={"stage": stage.value})

    async def _close(self, result: GenerationResult) -> GenerationResult:
        self._result = result
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    def _mark(self, stage: Stage, note: str) -> None:
        """Move to ``stage`` and append to the timeline the Temporal UI shows as current details."""
        self._timeline.mark(stage, note, task_id=self._tasks.last)
