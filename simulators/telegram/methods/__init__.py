"""Bot API method handlers, grouped by topic; importing a module registers its methods."""

from . import bot, files, media, messages, payments, updates
from .registry import METHODS, Ctx, api_method

__all__ = ["METHODS", "Ctx", "api_method", "bot", "files", "media", "messages", "payments", "updates"]
