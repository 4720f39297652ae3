"""One router per feature, built fresh for each dispatcher (a router can belong to one dispatcher only)."""

from aiogram import Router

from bot import admin
from bot.routers import (
    balance,
    create,
    fallback,
    followups,
    generation,
    help,
    history,
    language,
    payments,
    recipes,
    start,
)


def all_routers() -> list[Router]:
    """In the order they are asked: commands first, the catch-all fallback last. The admin router lets
    non-admins through, so they meet the fallback as with any unknown command."""
    return [
        start.router(),
        admin.router(),
        help.router(),
        language.router(),
        balance.router(),
        payments.router(),
        history.router(),
        generation.router(),
        followups.router(),
        recipes.router(),
        create.router(),
        fallback.router(),
    ]
