"""A recipe: a multi-step creation (text → image → video; photo → edit → animate) run as one parent workflow
with a child ``GenerationWorkflow`` per step. These are the models that cross its boundaries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from contracts.models import InputProblem, Lang, Outcome, Reason


class StepRequest(BaseModel):
    model_id: str
    inputs: dict[str, Any]  # the user's answers and the recipe's fixed inputs
    from_previous: str | None = None  # the input that takes the previous step's result
    from_previous_is_list: bool = False  # that input is a list of files


class RecipeRequest(BaseModel):
    user_id: int
    chat_id: int
    request_key: str = Field(min_length=1, max_length=48)
    recipe_id: str
    steps: list[StepRequest] = Field(min_length=1, max_length=5)
    language: Lang = "en"
    status_message_id: int | None = None
    # KIE's result URLs live about a day: older than this, a step's result goes on from Telegram instead.
    result_url_fresh_seconds: int = Field(default=12 * 3600, gt=0)


class PriceInput(BaseModel):
    recipe: RecipeRequest


class StepPrice(BaseModel):
    generation_id: str
    price: int
    free: bool = False


class RecipePrice(BaseModel):
    ok: bool
    steps: list[StepPrice] = Field(default_factory=list)
    problems: list[InputProblem] = Field(default_factory=list)  # of the first step that did not validate
    failed_step: int | None = None

    @property
    def total(self) -> int:
        return sum(s.price for s in self.steps if not s.free)


class HoldAllInput(BaseModel):
    user_id: int
    steps: list[StepPrice]


class HoldAllOutcome(BaseModel):
    ok: bool
    shortfall: int = 0


class ReleaseInput(BaseModel):
    user_id: int
    steps: list[StepPrice]  # the steps whose holds go back (those already settled are left as they are)


class StepReport(BaseModel):
    """What one step did, for the recipe's status message."""

    model_id: str
    outcome: Outcome | None = None  # None: not run (yet)
    price: int = 0
    charged: bool = False
    reason: Reason | None = None


class RecipeNotice(BaseModel):
    chat_id: int
    message_id: int | None
    language: Lang
    recipe_id: str
    request_key: str
    running: int | None = None  # the step running now (0-based); None once finished
    steps: list[StepReport]
    finished: bool = False
    cancelled: bool = False
    shortfall: int = 0  # not started: this many credits short


class RecipeResult(BaseModel):
    recipe_id: str
    outcome: Outcome
    steps: list[StepReport]
    charged: int = 0
    refunded: int = 0
