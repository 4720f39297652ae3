"""The aiogram ``Bot`` the bot process and the Telegram worker share: one way to reach the Bot API."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from genflow.settings import Settings


def make_bot(settings: Settings) -> Bot:
    """A Bot for the configured token, through ``TELEGRAM_API_BASE`` (a simulator, a local Bot API) if set."""
    assert settings.telegram_bot_token is not None
    session = AiohttpSession()
    if settings.telegram_api_base is not None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(str(settings.telegram_api_base).rstrip("/")))
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)
