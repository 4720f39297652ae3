"""What the catalog offers after a result: follow-ups (animate this image, upscale it…) and recipes (ready
multi-step creations). Business data in ``data/followups.toml`` and ``data/recipes.toml``; checked at load
like the models: every model named exists and can take what it is given.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.specs import LocalizedText, ModelSpec, localized

MediaKind = Literal["image", "video", "audio"]
# What a recipe step asks for an earlier step's result when pricing (media never changes a price).
PLACEHOLDER_URL = "https://example.invalid/previous-step-result"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FollowUpSpec(_Frozen):
    """A button under a result of kind ``from_``: the models of ``formats`` and ``models`` that take such a
    file, with the result filled in."""

    id: str = Field(pattern=r"^[a-z0-9-]{1,16}$")  # goes into callback data
    from_: MediaKind = Field(alias="from")
    title: LocalizedText
    formats: list[str] = []
    models: list[str] = []

    def title_for(self, lang: str) -> str:
        return localized(self.title, lang)


class RecipeStepSpec(_Frozen):
    model: str
    ask: list[str] = Field(min_length=0)  # the inputs the user answers, in this order
    inputs: dict[str, Any] = {}  # fixed by the recipe
    from_previous: str | None = None  # the media input that takes the previous step's result
    example: dict[str, Any] = {}  # answers that validate (checked at load, used to price the card)


class RecipeSpec(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9-]{1,16}$")
    title: LocalizedText
    description: LocalizedText
    steps: list[RecipeStepSpec] = Field(min_length=2, max_length=5)

    def title_for(self, lang: str) -> str:
        return localized(self.title, lang)

    def description_for(self, lang: str) -> str:
        return localized(self.description, lang)

    def step_inputs(self, index: int, answers: dict[str, Any]) -> dict[str, Any]:
        """A step's inputs: the recipe's fixed ones and the user's answers (the previous result is added
        when the step runs)."""
        step = self.steps[index]
        return {**step.inputs, **{name: answers[name] for name in step.ask if name in answers}}


def takes(model: ModelSpec, kind: str) -> str | None:
    """The first media input of ``model`` that accepts a file of ``kind``, else None."""
    for name in model.media_inputs:
        accept = model.inputs[name].accept
        if accept is not None and kind in accept.kinds:
            return name
    return None


def _accepts(model: ModelSpec, name: str, kind: str) -> bool:
    field = model.inputs.get(name)
    return field is not None and field.media and field.accept is not None and kind in field.accept.kinds


def previous_placeholder(model: ModelSpec, name: str) -> str | list[str]:
    """Where the previous result will go, for validating and pricing a step before it exists."""
    return [PLACEHOLDER_URL] if model.inputs[name].type == "array" else PLACEHOLDER_URL


def check_followups(
    followups: list[FollowUpSpec], models: dict[str, ModelSpec], formats: set[str]
) -> list[str]:
    problems = []
    for group in followups:
        where = f"followups.toml, {group.id}"
        problems += [f"{where}: unknown format {f!r}" for f in group.formats if f not in formats]
        for model_id in group.models:
            model = models.get(model_id)
            if model is None:
                problems.append(f"{where}: unknown model {model_id!r}")
            elif takes(model, group.from_) is None:
                problems.append(f"{where}: {model_id} takes no {group.from_} file")
        if not group.formats and not group.models:
            problems.append(f"{where}: names no format and no model")
    ids = [g.id for g in followups]
    problems += [
        f"followups.toml: id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    return problems


def check_recipe(recipe: RecipeSpec, models: dict[str, ModelSpec]) -> list[str]:
    """Every step's model exists; its asks are inputs the user may set; the previous result goes into a
    media input that takes that kind of file. (The loader then validates and prices each step's example.)"""
    problems = []
    where = f"recipes.toml, {recipe.id}"
    previous: ModelSpec | None = None
    for index, step in enumerate(recipe.steps, start=1):
        model = models.get(step.model)
        if model is None:
            problems.append(f"{where}, step {index}: unknown model {step.model!r}")
            previous = None
            continue
        unknown = [n for n in [*step.ask, *step.inputs] if n not in model.user_inputs]
        problems += [f"{where}, step {index}: {name!r} is not an input of {model.id}" for name in unknown]
        if index == 1 and step.from_previous:
            problems.append(f"{where}, step 1: the first step has no previous result")
        if index > 1:
            if not step.from_previous:
                problems.append(f"{where}, step {index}: from_previous is missing")
            elif previous is not None and not _accepts(model, step.from_previous, previous.output):
                problems.append(
                    f"{where}, step {index}: {step.from_previous!r} does not take the {previous.output} of "
                    f"step {index - 1}"
                )
        previous = model
    return problems
