"""One router per feature, built fresh for each dispatcher (a router can belong to one dispatcher only)."""

from aiogram import Router

from bot.routers import balance, create, fallback, generation, help, history, language, start


def all_routers() -> list[Router]:
    """In the order they are asked: commands first, the catch-all fallback last."""
    return [
        start.router(),
        help.router(),
        language.router(),
        balance.router(),
        history.router(),
        generation.router(),
        create.router(),
        fallback.router(),
    ]
