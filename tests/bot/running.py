"""The bot's Dispatcher running in-process, as ``python -m bot`` runs it, polling the system's Telegram
simulator over HTTP against the system's Temporal and PostgreSQL; every update tracked until handled, and
every error logged collected."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.types import TelegramObject, Update

from bot.app import build_dispatcher, make_bot, run_polling
from bot.services import Services
from bot.storage import PgStorage
from db import create_pool
from genflow.metrics import HttpMetrics
from genflow.settings import Settings
from genflow.stack import SIMULATED_BOT_TOKEN
from tests.fixtures.system import System

WAIT = 15.0  # seconds for the bot to handle one update


class UpdateTracker(BaseMiddleware):
    """The outermost update middleware: which updates were handled completely (errors middleware included).
    A failure is seen in the logs: the errors middleware logs it, aiogram logs what escapes."""

    def __init__(self) -> None:
        self.done: dict[int, asyncio.Event] = {}

    def event(self, update_id: int) -> asyncio.Event:
        return self.done.setdefault(update_id, asyncio.Event())

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        try:
            return await handler(event, data)
        finally:
            self.event(event.update_id).set()


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class RunningBot:
    dp: Dispatcher
    bot: Bot
    services: Services
    pool: asyncpg.Pool
    tracker: UpdateTracker
    stop_event: asyncio.Event
    task: asyncio.Task

    @property
    def storage(self) -> PgStorage:
        return self.dp.storage  # type: ignore[return-value]

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 30)
        await self.bot.session.close()
        await self.pool.close()


def bot_settings(system: System, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "database_url": system.stack.database_url,
        "temporal_task_queue": system.stack.settings.temporal_task_queue,
        "telegram_bot_token": SIMULATED_BOT_TOKEN,
        "telegram_api_base": system.telegram,
        # The worker's: it checks the order references the bot signs into invoices.
        "callback_secret": system.stack.env["CALLBACK_SECRET"],
        "bot_flood_rate_per_second": 200.0,
        "bot_flood_burst": 1000,
    }
    return Settings(**{**values, **overrides})


async def start_bot(system: System, *, drop_pending: bool = False, **settings: Any) -> RunningBot:
    """A fresh bot process, as far as state goes: new pool, new storage, new Dispatcher and Bot."""
    config = bot_settings(system, **settings)
    pool = await create_pool(system.stack.database_url, max_size=10)
    services = Services.create(config, system.client, pool)
    dp = build_dispatcher(services, metrics=HttpMetrics("bot"))  # as `python -m bot` runs it
    tracker = UpdateTracker()
    dp.update.outer_middleware._middlewares.insert(0, tracker)  # outside everything the bot registered
    bot = make_bot(config)
    if drop_pending:  # updates left by other suites' users
        await bot.delete_webhook(drop_pending_updates=True)
    stop = asyncio.Event()
    task = asyncio.create_task(run_polling(dp, bot, stop))
    return RunningBot(dp, bot, services, pool, tracker, stop, task)
