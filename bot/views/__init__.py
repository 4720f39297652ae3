"""Screens shared by several routers: each returns (text, keyboard), texts in the current i18n locale."""

from bot.views.browse import formats, model_card, models
from bot.views.common import Screen, credits, menu, show
from bot.views.form import (
    confirmation,
    field_errors,
    form_button,
    media_prompt,
    overview,
    question,
    step_hint,
)

__all__ = [
    "Screen",
    "confirmation",
    "credits",
    "field_errors",
    "form_button",
    "formats",
    "media_prompt",
    "menu",
    "model_card",
    "models",
    "overview",
    "question",
    "show",
    "step_hint",
]
