"""The fake world of tests/workflows/fakes.py, with a recipe's activities: a step's prompt decides its fate
("[fail]": the KIE task fails, "[slow]": it never finishes), and holds replay by key as in the real ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from contracts import activities as contract
from contracts.activities import implements
from contracts.ids import recipe_step_id
from contracts.models import (
    HoldInput,
    HoldOutcome,
    SubmitInput,
    SubmitOutcome,
    ValidatedGeneration,
    ValidateInput,
)
from contracts.queues import telegram_task_queue
from contracts.recipes import (
    HoldAllInput,
    HoldAllOutcome,
    PriceInput,
    RecipeNotice,
    RecipePrice,
    ReleaseInput,
    StepPrice,
)
from tests.workflows.fakes import FakeWorld
from workflows.generation import GenerationWorkflow
from workflows.recipe import RecipeWorkflow


@dataclass
class RecipeWorld(FakeWorld):
    step_prices: list[int] = field(default_factory=lambda: [10, 20, 30])
    submitted_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # step's workflow id -> inputs
    notices: list[RecipeNotice] = field(default_factory=list)
    # The time-skipping server never hands a dead worker's sticky queue back to the others (the dev server
    # does, after 5 s): a worker that is going to be killed runs without a workflow cache, so has none.
    cache_workflows: bool = True

    def __post_init__(self) -> None:
        self.finish_on_submit = "succeeded"

    def open_holds(self) -> list[str]:
        closed = {gid for kind, gid, _ in self.movements if kind in ("charge", "release")}
        return [gid for kind, gid, _ in self.movements if kind == "hold" and gid not in closed]

    # ---- the generation's activities, as a recipe's steps need them ----------------------------------------
    @implements(contract.validate_generation)
    async def validate_generation(self, data: ValidateInput) -> ValidatedGeneration:
        validated = await super().validate_generation(data)
        if data.request.prepaid is not None:
            validated.price = data.request.prepaid
        return validated

    @implements(contract.hold_credits)
    async def hold_credits(self, data: HoldInput) -> HoldOutcome:
        if ("hold", data.generation_id, data.amount) in self.movements:  # the recipe's hold: a replay
            return HoldOutcome(ok=True, available=self.balance - self.held)
        return await super().hold_credits(data)

    @implements(contract.submit_task)
    async def submit_task(self, data: SubmitInput) -> SubmitOutcome:
        self.submitted_inputs[activity.info().workflow_id] = dict(data.inputs)
        outcome = await super().submit_task(data)
        prompt = str(data.inputs.get("prompt", ""))
        if outcome.task_id and "[fail]" in prompt:
            self.tasks[outcome.task_id].state = "failed"
        elif outcome.task_id and "[slow]" in prompt:
            self.tasks[outcome.task_id].state = "in_progress"
        return outcome

    # ---- the recipe's own ---------------------------------------------------------------------------------
    @implements(contract.price_recipe)
    async def price_recipe(self, data: PriceInput) -> RecipePrice:
        recipe = data.recipe
        steps = [
            StepPrice(generation_id=recipe_step_id(recipe.user_id, recipe.request_key, i), price=price)
            for i, price in zip(range(len(recipe.steps)), self.step_prices, strict=False)
        ]
        return RecipePrice(ok=True, steps=steps)

    @implements(contract.hold_recipe)
    async def hold_recipe(self, data: HoldAllInput) -> HoldAllOutcome:
        new = [s for s in data.steps if ("hold", s.generation_id, s.price) not in self.movements]
        total = sum(s.price for s in new)
        available = self.balance - self.held
        if total > available:
            return HoldAllOutcome(ok=False, shortfall=total - available)
        for step in new:
            self.held += step.price
            self.movements.append(("hold", step.generation_id, step.price))
        return HoldAllOutcome(ok=True)

    @implements(contract.release_recipe)
    async def release_recipe(self, data: ReleaseInput) -> None:
        open_holds = self.open_holds()
        for step in data.steps:
            if step.generation_id in open_holds:
                self.held -= step.price
                self.movements.append(("release", step.generation_id, step.price))

    @implements(contract.notify_recipe)
    async def notify_recipe(self, data: RecipeNotice) -> None:
        self.notices.append(data)

    @property
    def activities(self) -> list:
        return [*super().activities, self.price_recipe, self.hold_recipe, self.release_recipe]

    @property
    def telegram_activities(self) -> list:
        return [*super().telegram_activities, self.notify_recipe]

    def workers(self, client: Client, queue: str, *, kie: bool = True) -> list[Worker]:
        workers = [
            Worker(
                client,
                task_queue=queue,
                workflows=[GenerationWorkflow, RecipeWorkflow],
                activities=self.activities,
                max_cached_workflows=1000 if self.cache_workflows else 0,
            ),
            Worker(client, task_queue=telegram_task_queue(queue), activities=self.telegram_activities),
        ]
        if kie:
            workers.append(self.kie_worker(client, queue))
        return workers
