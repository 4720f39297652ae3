"""The bot process (``python -m bot``): aiogram 3, long polling by default, webhook mode when
``TELEGRAM_WEBHOOK_URL`` is set.

The bot only reads (balance, history, catalog), starts generation workflows and sends them updates; the
workflow moves money and talks to KIE. Form state lives in PostgreSQL (``bot.storage.PgStorage``), so a
restart loses nothing and several replicas (webhook mode) share it.

Middlewares, outermost first: in-flight tracking and errors (per update), then per event the user's
language, flood control and the automatic callback answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.middlewares import (
    AnswerCallbacks,
    ErrorsMiddleware,
    FloodMiddleware,
    InFlightMiddleware,
    LanguageMiddleware,
)
from bot.routers import all_routers
from bot.services import Services
from bot.storage import PgStorage
from db import create_pool
from genflow.i18n import get_i18n, translate
from genflow.logs import setup_logging
from genflow.settings import Settings, get_settings
from genflow.temporal import connect_temporal

__all__ = ["Services", "build_dispatcher", "main", "make_bot", "run", "webhook_app"]

log = logging.getLogger("bot")

WEBHOOK_PATH = "/telegram/webhook"
DRAIN_SECONDS = 30.0  # how long a stopping bot lets updates in progress finish


def make_bot(settings: Settings) -> Bot:
    """A Bot for the configured token, through ``TELEGRAM_API_BASE`` (a simulator, a local Bot API) if set."""
    assert settings.telegram_bot_token is not None
    session = AiohttpSession()
    if settings.telegram_api_base is not None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(str(settings.telegram_api_base).rstrip("/")))
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def build_dispatcher(
    services: Services, *, storage: BaseStorage | None = None, webhook: bool = False
) -> Dispatcher:
    """Every router and middleware wired; handlers get ``services`` (and ``lang``) from the dispatcher.

    ``webhook``: transient failures are re-raised so that the webhook answers 500 and Telegram retries.
    """
    dp = Dispatcher(
        storage=storage or PgStorage(services.pool),
        # One update per user at a time in this process; the database covers other replicas.
        events_isolation=SimpleEventIsolation(),
        services=services,
    )
    i18n = get_i18n()
    inflight = InFlightMiddleware()
    dp["inflight"] = inflight
    dp.update.outer_middleware(inflight)
    dp.update.outer_middleware(ErrorsMiddleware(i18n, reraise_transient=webhook))
    LanguageMiddleware(i18n).setup(dp)
    flood = FloodMiddleware(services.settings.bot_flood_rate_per_second, services.settings.bot_flood_burst)
    dp.message.outer_middleware(flood)
    dp.callback_query.outer_middleware(flood)
    # Every callback query is answered once its handler is done (with the text the handler set).
    dp.callback_query.outer_middleware(AnswerCallbacks())
    dp.include_routers(*all_routers())
    return dp


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the token: the same on every replica."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    return hashlib.sha256(f"genflow-webhook:{token}".encode()).hexdigest()


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def webhook_app(dp: Dispatcher, bot: Bot, *, secret: str) -> web.Application:
    """``POST /telegram/webhook`` (answered after the update is handled: a failure is delivered again)
    and ``GET /healthz``."""
    app = web.Application()
    handler = SimpleRequestHandler(dispatcher=dp, bot=bot, handle_in_background=False, secret_token=secret)
    handler.register(app, path=WEBHOOK_PATH)
    app.router.add_get("/healthz", healthz)
    return app


def bot_commands(lang: str) -> list[BotCommand]:
    return [
        BotCommand(command="menu", description=translate("Main menu", lang)),
        BotCommand(command="create", description=translate("Create an image, a video or music", lang)),
        BotCommand(command="balance", description=translate("Balance", lang)),
        BotCommand(command="history", description=translate("My generations", lang)),
        BotCommand(command="language", description=translate("Language", lang)),
        BotCommand(command="cancel", description=translate("Leave the form", lang)),
        BotCommand(command="help", description=translate("How it works", lang)),
        BotCommand(command="paysupport", description=translate("Payments", lang)),
    ]


async def set_commands(bot: Bot) -> None:
    """The command menu in both languages; cosmetic, so a failure is only logged."""
    try:
        await bot.set_my_commands(bot_commands("en"))
        await bot.set_my_commands(bot_commands("ru"), language_code="ru")
    except TelegramAPIError:
        log.warning("bot commands not set")


async def run_polling(dp: Dispatcher, bot: Bot, stop: asyncio.Event) -> None:
    """Poll until ``stop``; then let updates in progress finish and confirm them to Telegram."""
    await bot.delete_webhook()  # left over from webhook mode, it would make getUpdates fail
    log.info("long polling")
    polling = asyncio.create_task(
        dp.start_polling(
            bot, handle_signals=False, close_bot_session=False, allowed_updates=dp.resolve_used_update_types()
        )
    )
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if polling.done():
        stopped.cancel()
        polling.result()  # polling ended by itself: raise what ended it
        return
    with contextlib.suppress(RuntimeError):  # "polling is not started": it is ending anyway
        await dp.stop_polling()
    await polling
    await drain(dp, bot)


async def drain(dp: Dispatcher, bot: Bot) -> None:
    """Wait for updates in progress, then confirm the last one: getUpdates confirms only on the next call."""
    inflight: InFlightMiddleware = dp["inflight"]
    if not await inflight.wait_idle(DRAIN_SECONDS):
        log.warning("stopping with %s update(s) still in progress", inflight.in_flight)
    if inflight.last_update_id is not None:
        with contextlib.suppress(TelegramAPIError):
            await bot.get_updates(offset=inflight.last_update_id + 1, limit=1, timeout=0)


async def run_webhook(dp: Dispatcher, bot: Bot, settings: Settings, stop: asyncio.Event) -> None:
    assert settings.telegram_webhook_url is not None
    secret = webhook_secret(settings)
    runner = web.AppRunner(webhook_app(dp, bot, secret=secret), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.bot_host, settings.bot_port).start()
    url = str(settings.telegram_webhook_url).rstrip("/") + WEBHOOK_PATH
    await bot.set_webhook(url, secret_token=secret, allowed_updates=dp.resolve_used_update_types())
    log.info("webhook mode on %s:%s", settings.bot_host, settings.bot_port)
    await stop.wait()
    await runner.cleanup()  # stops accepting; requests in progress (handlers) are waited for


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Connect to Temporal and PostgreSQL and serve until ``stop`` is set."""
    assert settings.database_url is not None
    temporal = await connect_temporal(settings)
    pool = await create_pool(
        settings.database_url, min_size=settings.database_pool_min, max_size=settings.database_pool_max
    )
    bot = make_bot(settings)
    try:
        webhook = settings.telegram_webhook_url is not None
        dp = build_dispatcher(Services.create(settings, temporal, pool), webhook=webhook)
        await set_commands(bot)
        if webhook:
            await run_webhook(dp, bot, settings, stop)
        else:
            await run_polling(dp, bot, stop)
    finally:
        await bot.session.close()
        await pool.close()
    log.info("bot stopped")


def main() -> None:
    settings = get_settings()
    settings.require("database_url", "telegram_bot_token")
    setup_logging("bot", level=settings.log_level, json_lines=settings.log_json)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run(settings, stop)

    asyncio.run(serve())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the Temporal SDK can crash at interpreter exit (sdk-python issue 300)
