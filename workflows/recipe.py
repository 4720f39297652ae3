"""RecipeWorkflow: a multi-step creation (text → image → video; photo → edit → animate) as one parent workflow
with a child ``GenerationWorkflow`` per step.

Money: the whole price is held before the first step, one hold per step under the step's own key
(``hold:<step's generation id>``, in one transaction: all or none, never more than the balance); each step
adopts its hold (``prepaid``) and charges it when it succeeds. A step that fails, times out or is refused
releases its own hold (the child does; the recipe makes sure) and the recipe releases every later step's;
a cancel between steps releases the rest. Every movement keeps its business key, so retries, crashes and
replays move money once. The recipe's status message says which step runs and what each one cost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from contracts import activities
    from contracts.generation import CANCEL, STATUS
    from contracts.ids import parse_generation_id
    from contracts.models import CancelResult, GenerationRequest, GenerationResult, Outcome, Reason, Stage
    from contracts.queues import telegram_task_queue
    from contracts.recipes import (
        HoldAllInput,
        PriceInput,
        RecipeNotice,
        RecipeRequest,
        RecipeResult,
        ReleaseInput,
        StepPrice,
        StepReport,
    )
    from workflows.generation import GenerationWorkflow
    from workflows.policies import MONEY_RETRY, QUICK_RETRY, STATUS_MESSAGE_RETRY


@workflow.defn
class RecipeWorkflow:
    def __init__(self) -> None:
        self._reports: list[StepReport] = []
        self._running: int | None = None
        self._cancel_requested = False
        self._finished = False

    @workflow.run
    async def run(self, request: RecipeRequest) -> RecipeResult:
        self._reports = [StepReport(model_id=step.model_id) for step in request.steps]
        price = await workflow.execute_local_activity(
            activities.price_recipe,
            PriceInput(recipe=request),
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=QUICK_RETRY,
            schedule_to_close_timeout=timedelta(minutes=10),
            summary="validate and price every step",
        )
        if not price.ok:
            return await self._finish(request, Outcome.REJECTED)
        for report, priced in zip(self._reports, price.steps, strict=True):
            report.price = priced.price
        held = await workflow.execute_local_activity(
            activities.hold_recipe,
            HoldAllInput(user_id=request.user_id, steps=price.steps),
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=MONEY_RETRY,
            schedule_to_close_timeout=timedelta(minutes=30),
            summary=f"hold {price.total} credits for {len(price.steps)} steps",
        )
        if not held.ok:
            return await self._finish(request, Outcome.REJECTED, shortfall=held.shortfall)

        previous: GenerationResult | None = None
        for index, (step, priced) in enumerate(zip(request.steps, price.steps, strict=True)):
            if self._cancel_requested:
                await self._release(request, price.steps[index:])
                return await self._finish(request, Outcome.CANCELLED)
            self._running = index
            await self._notify(request)
            inputs = dict(step.inputs)
            if step.from_previous and previous is not None:
                fresh = timedelta(seconds=request.result_url_fresh_seconds)
                file = _previous_file(previous, workflow.now(), fresh)
                inputs[step.from_previous] = [file] if step.from_previous_is_list else file
            result = await self._run_step(request, index, priced, inputs, previous)
            self._reports[index].outcome = result.outcome
            self._reports[index].charged = result.charged
            self._reports[index].reason = result.reason
            if result.outcome != Outcome.SUCCEEDED:
                # This step's hold (if the step never held it) and every later one's go back.
                await self._release(request, price.steps[index:])
                return await self._finish(request, Outcome.FAILED)
            previous = result
        return await self._finish(request, Outcome.SUCCEEDED)

    async def _run_step(
        self,
        request: RecipeRequest,
        index: int,
        priced: StepPrice,
        inputs: dict[str, object],
        previous: GenerationResult | None,
    ) -> GenerationResult:
        parsed = parse_generation_id(priced.generation_id)
        assert parsed is not None
        step = GenerationRequest(
            user_id=request.user_id,
            chat_id=request.chat_id,
            request_key=parsed.request_key,
            model_id=request.steps[index].model_id,
            inputs=inputs,
            language=request.language,
            parent_id=previous.generation_id if previous else None,
            chain_id=workflow.info().workflow_id,
            prepaid=None if priced.free else priced.price,
            quiet=True,
        )
        try:
            return await workflow.execute_child_workflow(
                GenerationWorkflow.run,
                step,
                id=priced.generation_id,
                static_summary=f"step {index + 1} of recipe {request.recipe_id}: {step.model_id}",
            )
        except ChildWorkflowError as err:  # terminated or failed by a bug: nothing of it was delivered
            workflow.logger.error("recipe step failed", extra={"step": index, "error": str(err)})
            return GenerationResult(
                generation_id=priced.generation_id,
                outcome=Outcome.FAILED,
                reason=Reason.SERVICE_UNAVAILABLE,
                price=priced.price,
            )

    @workflow.update(
        name=CANCEL, description="The user cancels: the running step finishes, the rest is released."
    )
    def cancel(self) -> CancelResult:
        self._cancel_requested = True
        return CancelResult(accepted=True, stage=Stage.QUEUED if self._running is None else Stage.WAITING)

    @cancel.validator
    def _validate_cancel(self) -> None:
        if self._finished:
            raise ValueError("too late to cancel: the recipe has finished")

    @workflow.query(
        name=STATUS, description="Each step: its model, outcome, price and whether it was charged."
    )
    def status(self) -> list[StepReport]:
        return list(self._reports)

    async def _release(self, request: RecipeRequest, steps: list[StepPrice]) -> None:
        held = [s for s in steps if not s.free]
        if held:
            await workflow.execute_local_activity(
                activities.release_recipe,
                ReleaseInput(user_id=request.user_id, steps=held),
                start_to_close_timeout=timedelta(seconds=15),
                retry_policy=MONEY_RETRY,
                schedule_to_close_timeout=timedelta(days=7),
                summary=f"release {len(held)} step(s)",
            )

    async def _finish(self, request: RecipeRequest, outcome: Outcome, *, shortfall: int = 0) -> RecipeResult:
        self._finished, self._running = True, None
        await self._notify(request, shortfall=shortfall)
        charged = sum(r.price for r in self._reports if r.charged)
        refunded = sum(r.price for r in self._reports if not r.charged) if outcome != Outcome.REJECTED else 0
        await workflow.wait_condition(workflow.all_handlers_finished)
        return RecipeResult(
            recipe_id=request.recipe_id,
            outcome=outcome,
            steps=self._reports,
            charged=charged,
            refunded=refunded,
        )

    async def _notify(self, request: RecipeRequest, *, shortfall: int = 0) -> None:
        """The recipe's status message: which step runs, what each cost. Best effort."""
        notice = RecipeNotice(
            chat_id=request.chat_id,
            message_id=request.status_message_id,
            language=request.language,
            recipe_id=request.recipe_id,
            request_key=request.request_key,
            running=self._running,
            steps=self._reports,
            finished=self._finished,
            cancelled=self._cancel_requested and self._finished,
            shortfall=shortfall,
        )
        try:
            await workflow.execute_activity(
                activities.notify_recipe,
                notice,
                task_queue=telegram_task_queue(workflow.info().task_queue),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=STATUS_MESSAGE_RETRY,
                summary="recipe status message",
            )
        except ActivityError:  # the message is cosmetic; the steps and the money are not
            workflow.logger.warning("recipe status message not updated")


def _previous_file(previous: GenerationResult, now: datetime, fresh: timedelta) -> str:
    """The previous step's result as the next step's input: KIE's URL while it is fresh, else the file as
    Telegram keeps it (the next step's media upload fetches it from Telegram and uploads it to KIE)."""
    produced = previous.produced_at or now
    if now - produced <= fresh or not previous.file_ids:
        return previous.files[0].url
    return previous.file_ids[0]
