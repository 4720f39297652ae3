"""The user's language: the one stored on the user, else Telegram's.

On first contact the user and their account are created, and Telegram's language is stored (when the user
has none stored yet): workflows that message a user outside a conversation (payment notices) read it. The
Language button overrides it. aiogram's ``I18nMiddleware`` sets the locale for the handler: ``PoI18n`` shares
aiogram's I18n context variable, so its ``gettext`` translates into the user's language.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from genflow.i18n import DEFAULT_LANGUAGE, pick_language


class LanguageMiddleware(I18nMiddleware):
    """Puts ``lang`` (ru/en) into the handler data and creates the user and account on first contact."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            data["lang"] = DEFAULT_LANGUAGE
            return DEFAULT_LANGUAGE
        ledger = data["services"].ledger
        record = await ledger.get_user(user.id)
        if record is None or (record.language is None and user.language_code):
            # The account must exist before Balance or a confirmation card reads it.
            telegram = pick_language(user.language_code) if user.language_code else None
            record = await ledger.ensure_user(user.id, language=telegram)
        lang = pick_language(record.language or user.language_code)
        data["lang"] = lang
        return lang
