"""A recipe's money: price every step, hold them all at once, release what a failed or cancelled recipe did
not use. Each hold has its step's own key (``hold:<step's generation id>``): the step adopts it, charges
or releases it as any generation does, and every movement happens once whatever is retried."""

from __future__ import annotations

import logging

from activities.ledger import hold_key
from catalog import Catalog, UnknownModel, ValidationFailed
from catalog.after import previous_placeholder
from contracts import activities as contract
from contracts.activities import implements
from contracts.ids import recipe_step_id
from contracts.models import InputProblem
from contracts.recipes import (
    HoldAllInput,
    HoldAllOutcome,
    PriceInput,
    RecipePrice,
    ReleaseInput,
    StepPrice,
)
from db import HoldClosed, InsufficientCredits, Ledger, UnknownHold

log = logging.getLogger(__name__)


class RecipeActivities:
    def __init__(self, catalog: Catalog, ledger: Ledger) -> None:
        self.catalog = catalog
        self.ledger = ledger

    @implements(contract.price_recipe)
    async def price_recipe(self, data: PriceInput) -> RecipePrice:
        """Validate and price every step (an earlier step's result stands in as a placeholder)."""
        recipe = data.recipe
        steps = []
        for index, step in enumerate(recipe.steps):
            gid = recipe_step_id(recipe.user_id, recipe.request_key, index)
            try:
                spec = self.catalog.get(step.model_id)
                inputs = dict(step.inputs)
                if step.from_previous:
                    inputs[step.from_previous] = previous_placeholder(spec, step.from_previous)
                price = self.catalog.price(spec.id, self.catalog.validate(spec.id, inputs))
            except UnknownModel:
                problem = InputProblem(field="model", rule="unknown_model")
                return RecipePrice(ok=False, problems=[problem], failed_step=index)
            except ValidationFailed as failed:
                problems = [InputProblem(field=e.field, rule=e.rule, limits=e.limits) for e in failed.errors]
                return RecipePrice(ok=False, problems=problems, failed_step=index)
            steps.append(StepPrice(generation_id=gid, price=price.credits, free=price.free))
        return RecipePrice(ok=True, steps=steps)

    @implements(contract.hold_recipe)
    async def hold_recipe(self, data: HoldAllInput) -> HoldAllOutcome:
        """Every paid step's hold in one transaction: all or none, never more than the balance."""
        await self.ledger.ensure_user(data.user_id)
        holds = [(hold_key(s.generation_id), s.price, s.generation_id) for s in data.steps if not s.free]
        if holds:
            try:
                await self.ledger.hold_all(data.user_id, holds)
            except InsufficientCredits as err:
                return HoldAllOutcome(ok=False, shortfall=err.shortfall)
        return HoldAllOutcome(ok=True)

    @implements(contract.release_recipe)
    async def release_recipe(self, data: ReleaseInput) -> None:
        """Give back the holds of steps that will not run (or ran and failed without settling): with the
        step's own release key, so a release the step already made is a replay."""
        for step in data.steps:
            gid = step.generation_id
            try:
                await self.ledger.release(hold_key=hold_key(gid), key=f"release:{gid}")
            except UnknownHold:
                continue  # never held (a free step)
            except HoldClosed:
                log.info("a recipe step's hold was already closed", extra={"workflow_id": gid})
