"""Middlewares: errors (outermost), language, flood control, callback answers, in-flight tracking."""

from bot.middlewares.errors import ErrorsMiddleware
from bot.middlewares.flood import FloodMiddleware
from bot.middlewares.inflight import InFlightMiddleware
from bot.middlewares.language import LanguageMiddleware

__all__ = ["ErrorsMiddleware", "FloodMiddleware", "InFlightMiddleware", "LanguageMiddleware"]
