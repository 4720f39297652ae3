"""The user's language: the one stored on the user (chosen with the Language button), else Telegram's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from genflow.i18n import DEFAULT_LANGUAGE, pick_language


@contextmanager
def i18n_context(i18n: I18n, locale: str) -> Iterator[None]:
    """Make ``gettext`` of ``aiogram.utils.i18n`` translate into ``locale``.

    That ``gettext`` reads ``I18n``'s own context variable, while ``I18n.context()`` of a subclass (our
    ``PoI18n``) sets the subclass's: set the base class's here.
    """
    token = I18n.set_current(i18n)
    try:
        with i18n.use_locale(locale):
            yield
    finally:
        I18n.reset_current(token)


class LanguageMiddleware(I18nMiddleware):
    """Puts ``lang`` (ru/en) into the handler data and creates the user and account on first contact."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        locale = await self.get_locale(event=event, data=data)
        if self.i18n_key:
            data[self.i18n_key] = self.i18n
        data[self.middleware_key] = self
        with i18n_context(self.i18n, locale):
            return await handler(event, data)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            data["lang"] = DEFAULT_LANGUAGE
            return DEFAULT_LANGUAGE
        ledger = data["services"].ledger
        record = await ledger.get_user(user.id)
        if record is None:
            # The account must exist before Balance or a confirmation card reads it.
            record = await ledger.ensure_user(user.id)
        lang = pick_language(record.language or user.language_code)
        data["lang"] = lang
        return lang
