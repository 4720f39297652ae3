"""Middlewares: in-flight tracking, once per update across replicas (webhook mode), errors and metrics (per
update); language, flood, callback answers."""

from bot.middlewares.callbacks import AnswerCallbacks
from bot.middlewares.errors import ErrorsMiddleware
from bot.middlewares.flood import FloodMiddleware
from bot.middlewares.inflight import InFlightMiddleware
from bot.middlewares.language import LanguageMiddleware
from bot.middlewares.metrics import UpdateMetrics
from bot.middlewares.once import OnceMiddleware
from bot.middlewares.unknown import IgnoreUnknownUpdates

__all__ = [
    "AnswerCallbacks",
    "ErrorsMiddleware",
    "FloodMiddleware",
    "IgnoreUnknownUpdates",
    "InFlightMiddleware",
    "LanguageMiddleware",
    "OnceMiddleware",
    "UpdateMetrics",
]
