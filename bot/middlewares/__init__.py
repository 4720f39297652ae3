"""Middlewares: errors (outermost), language, flood control, callback answers, in-flight tracking."""

from bot.middlewares.callbacks import AnswerCallbacks
from bot.middlewares.errors import ErrorsMiddleware
from bot.middlewares.flood import FloodMiddleware
from bot.middlewares.inflight import InFlightMiddleware
from bot.middlewares.language import LanguageMiddleware

__all__ = [
    "AnswerCallbacks",
    "ErrorsMiddleware",
    "FloodMiddleware",
    "InFlightMiddleware",
    "LanguageMiddleware",
]
