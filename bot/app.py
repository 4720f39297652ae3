"""The bot process (``python -m bot``): aiogram 3, long polling by default, webhook mode when
``TELEGRAM_WEBHOOK_URL`` is set.

The bot only reads (balance, history, catalog), starts generation workflows and sends them updates; the
workflow moves money and talks to KIE. Form state lives in PostgreSQL (``bot.storage.PgStorage``), so a
restart loses nothing and several replicas (webhook mode) share it.

Middlewares, outermost first: in-flight tracking, errors and metrics (per update), updates of unknown types
dropped, then per event the user's language, flood control and the automatic callback answer.

Operations: ``/healthz``, ``/readyz`` and ``/metrics`` on ``BOT_PORT`` in both modes (long polling: an ops
server of its own; webhook mode: beside the webhook); ``genflow_bot_updates_total{kind, outcome}`` per update.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import sys
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.middlewares import (
    AnswerCallbacks,
    ErrorsMiddleware,
    FloodMiddleware,
    IgnoreUnknownUpdates,
    InFlightMiddleware,
    LanguageMiddleware,
    OnceMiddleware,
    UpdateMetrics,
)
from bot.routers import all_routers
from bot.services import Services
from bot.storage import PgStorage
from db import BotUpdates, create_pool
from genflow.i18n import get_i18n, translate
from genflow.logs import setup_process_logging
from genflow.metrics import HttpMetrics, start_ops_server
from genflow.settings import Settings, get_settings
from genflow.telegram import make_bot
from genflow.temporal import connect_temporal

__all__ = ["Services", "build_dispatcher", "main", "make_bot", "run", "webhook_app"]

log = logging.getLogger("bot")

WEBHOOK_PATH = "/telegram/webhook"
DRAIN_SECONDS = 30.0  # how long a stopping bot lets updates in progress finish


def build_dispatcher(
    services: Services,
    *,
    storage: BaseStorage | None = None,
    webhook: bool = False,
    metrics: HttpMetrics | None = None,
) -> Dispatcher:
    """Every router and middleware wired; handlers get ``services`` (and ``lang``) from the dispatcher.

    ``webhook``: transient failures are re-raised so that the webhook answers 500 and Telegram retries.
    ``metrics``: every update is counted by kind and outcome, with its handling time.
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
    if webhook:  # several replicas, at-least-once deliveries: claim each update in PostgreSQL
        dp.update.outer_middleware(OnceMiddleware(BotUpdates(services.pool)))
    dp.update.outer_middleware(ErrorsMiddleware(i18n, reraise_transient=webhook))
    if metrics is not None:
        dp.update.outer_middleware(UpdateMetrics(metrics))  # inside errors: it sees the failures
    dp.update.outer_middleware(IgnoreUnknownUpdates())  # counted above as kind "unknown", "unhandled"
    # Not on "error": no handler listens there, and a failed update (PostgreSQL away) would query it again.
    LanguageMiddleware(i18n).setup(dp, exclude={"error"})
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


def webhook_app(
    dp: Dispatcher,
    bot: Bot,
    *,
    secret: str,
    metrics: HttpMetrics | None = None,
    ready: Callable[[], bool] = lambda: True,
) -> web.Application:
    """``POST /telegram/webhook`` (answered after the update is handled: a failure is delivered again),
    ``GET /healthz``, ``GET /readyz`` (``ready()``: 503 until the webhook is set and while stopping); with
    ``metrics``, ``GET /metrics`` and every request counted."""
    app = web.Application()
    handler = SimpleRequestHandler(dispatcher=dp, bot=bot, handle_in_background=False, secret_token=secret)
    handler.register(app, path=WEBHOOK_PATH)
    app.router.add_get("/healthz", healthz)

    async def readyz(request: web.Request) -> web.Response:
        ok = ready()
        if metrics is not None:
            metrics.set_ready(ok)
        return web.json_response({"ok": ok}, status=200 if ok else 503)

    app.router.add_get("/readyz", readyz)
    if metrics is not None:
        metrics.install(app)
    return app


def bot_commands(lang: str) -> list[BotCommand]:
    return [
        BotCommand(command="menu", description=translate("Main menu", lang)),
        BotCommand(command="create", description=translate("Create an image, a video or music", lang)),
        BotCommand(command="balance", description=translate("Balance", lang)),
        BotCommand(command="topup", description=translate("Top up with Telegram Stars", lang)),
        BotCommand(command="invite", description=translate("Invite friends", lang)),
        BotCommand(command="history", description=translate("My generations", lang)),
        BotCommand(command="language", description=translate("Language", lang)),
        BotCommand(command="cancel", description=translate("Leave the form", lang)),
        BotCommand(command="help", description=translate("How it works", lang)),
        BotCommand(command="paysupport", description=translate("Payments", lang)),
    ]


def admin_commands(lang: str) -> list[BotCommand]:
    return [*bot_commands(lang), BotCommand(command="admin", description=translate("Admin panel", lang))]


async def set_commands(bot: Bot, admin_ids: list[int] = []) -> None:  # noqa: B006 (read only)
    """The command menu in both languages; /admin only in the admins' own chats. Cosmetic: a failure is
    only logged."""
    try:
        await bot.set_my_commands(bot_commands("en"))
        await bot.set_my_commands(bot_commands("ru"), language_code="ru")
    except TelegramAPIError:
        log.warning("bot commands not set")
    for admin_id in admin_ids:
        scope = BotCommandScopeChat(chat_id=admin_id)
        try:
            await bot.set_my_commands(admin_commands("en"), scope=scope)
            await bot.set_my_commands(admin_commands("ru"), scope=scope, language_code="ru")
        except TelegramAPIError:  # e.g. an admin who never opened the bot: "chat not found"
            log.warning("admin commands not set", extra={"admin_id": admin_id})


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


async def run_webhook(
    dp: Dispatcher, bot: Bot, settings: Settings, stop: asyncio.Event, metrics: HttpMetrics | None = None
) -> None:
    assert settings.telegram_webhook_url is not None
    secret = webhook_secret(settings)
    webhook_set = False
    app = webhook_app(
        dp, bot, secret=secret, metrics=metrics, ready=lambda: webhook_set and not stop.is_set()
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.bot_host, settings.bot_port).start()
    url = str(settings.telegram_webhook_url).rstrip("/") + WEBHOOK_PATH
    await bot.set_webhook(url, secret_token=secret, allowed_updates=dp.resolve_used_update_types())
    webhook_set = True
    if metrics is not None:
        metrics.set_ready(True)
    log.info("webhook mode on %s:%s", settings.bot_host, settings.bot_port)
    await stop.wait()
    if metrics is not None:
        metrics.set_ready(False)
    await runner.cleanup()  # stops accepting; requests in progress (handlers) are waited for


async def run(settings: Settings, stop: asyncio.Event, metrics: HttpMetrics | None = None) -> None:
    """Connect to Temporal and PostgreSQL and serve until ``stop`` is set.

    Long polling: ``/healthz``, ``/readyz`` (503 until connected and again while stopping) and ``/metrics``
    listen on ``BOT_PORT`` from the start. Webhook mode: the webhook's server serves them on that port.
    """
    assert settings.database_url is not None
    metrics = metrics or HttpMetrics("bot")
    webhook = settings.telegram_webhook_url is not None
    connected = False
    ops = None
    if not webhook:
        try:
            ops = await start_ops_server(
                settings.bot_host, settings.bot_port, metrics, ready=lambda: connected and not stop.is_set()
            )
        except OSError as error:  # a busy port: the bot still serves its users, without the ops endpoints
            log.error("no /healthz, /readyz, /metrics: %s", error, extra={"port": settings.bot_port})
    try:
        temporal = await connect_temporal(settings)
        pool = await create_pool(
            settings.database_url, min_size=settings.database_pool_min, max_size=settings.database_pool_max
        )
        bot = make_bot(settings)
        try:
            dp = build_dispatcher(Services.create(settings, temporal, pool), webhook=webhook, metrics=metrics)
            await set_commands(bot, settings.admin_ids)
            if webhook:
                await run_webhook(dp, bot, settings, stop, metrics)
            else:
                connected = True
                metrics.set_ready(True)
                await run_polling(dp, bot, stop)
                metrics.set_ready(False)
        finally:
            await bot.session.close()
            await pool.close()
    finally:
        if ops is not None:
            await ops.cleanup()
    log.info("bot stopped")


def main() -> None:
    settings = get_settings()
    # CALLBACK_SECRET signs the invoices' order references (the worker checks them with the same secret).
    settings.require("database_url", "telegram_bot_token", "callback_secret")
    setup_process_logging("bot", settings)

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
