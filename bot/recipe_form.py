"""A recipe's form: the questions of every step in order (each step's ``ask``), kept in the FSM so another
replica or a restart continues it; then the confirmation card with every step's price and the total."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from catalog import Catalog, InputSpec, RecipeSpec, ValidationFailed
from catalog.after import previous_placeholder
from contracts.recipes import StepRequest

RECIPE_KEY = "recipe"


@dataclass
class RecipeForm:
    recipe_id: str
    answers: list[dict[str, Any]]  # per step
    at: int = 0  # the question being asked, counting every step's asks in order
    key: str | None = None  # the confirmation card's request key

    def to_data(self) -> dict[str, Any]:
        return {RECIPE_KEY: asdict(self)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RecipeForm | None:
        raw = data.get(RECIPE_KEY)
        try:
            return cls(**raw) if isinstance(raw, dict) else None
        except TypeError:  # written by another version of the bot: start over
            return None


@dataclass(frozen=True)
class Question:
    step: int
    name: str
    field: InputSpec = field(compare=False)


def new_form(recipe: RecipeSpec) -> RecipeForm:
    return RecipeForm(recipe_id=recipe.id, answers=[{} for _ in recipe.steps])


def new_request_key() -> str:
    # Shorter than a generation's: the steps' ids append "_s<n>" to it.
    return secrets.token_hex(6)


def questions(catalog: Catalog, recipe: RecipeSpec) -> list[Question]:
    found = []
    for index, step in enumerate(recipe.steps):
        spec = catalog.get(step.model)
        found += [Question(index, name, spec.user_inputs[name]) for name in step.ask]
    return found


def step_inputs(catalog: Catalog, recipe: RecipeSpec, form: RecipeForm, index: int) -> dict[str, Any]:
    """A step's inputs as they will be sent, with a placeholder for the previous step's result."""
    step = recipe.steps[index]
    inputs = recipe.step_inputs(index, form.answers[index])
    if step.from_previous:
        inputs[step.from_previous] = previous_placeholder(catalog.get(step.model), step.from_previous)
    return inputs


def prices(catalog: Catalog, recipe: RecipeSpec, form: RecipeForm) -> list[int] | None:
    """Every step's price for these answers (the workflow prices them again); None if one is invalid."""
    found = []
    for index, step in enumerate(recipe.steps):
        try:
            price = catalog.price(
                step.model, catalog.validate(step.model, step_inputs(catalog, recipe, form, index))
            )
        except ValidationFailed:
            return None
        found.append(0 if price.free else price.credits)
    return found


def steps(catalog: Catalog, recipe: RecipeSpec, form: RecipeForm) -> list[StepRequest]:
    """The recipe's steps as the workflow takes them."""
    found = []
    for index, step in enumerate(recipe.steps):
        is_list = (
            bool(step.from_previous)
            and catalog.get(step.model).inputs[step.from_previous or ""].type == "array"
        )
        found.append(
            StepRequest(
                model_id=step.model,
                inputs=recipe.step_inputs(index, form.answers[index]),
                from_previous=step.from_previous,
                from_previous_is_list=is_list,
            )
        )
    return found
