"""Translations for the bot: aiogram's I18n over the catalogs of ``genflow.translations`` (the .po files,
compiled in memory at start-up: no build step, no binary file to keep in sync)."""

from __future__ import annotations

import contextvars
import gettext
from functools import lru_cache
from typing import Literal, overload

from aiogram.utils.i18n import I18n

from genflow.translations import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    LOCALES_DIR,
    catalogs,
    ntranslate,
    pick_language,
    translate,
)

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "PoI18n", "get_i18n", "ntranslate", "pick_language", "translate"]


class PoI18n(I18n):
    """aiogram's I18n reading .po catalogs directly."""

    # aiogram's gettext helpers look the current instance up in I18n's context variable, while a subclass
    # gets a variable of its own: share I18n's, so `with i18n.context():` works for this class too.
    @overload
    @classmethod
    def get_current(cls) -> I18n | None: ...

    @overload
    @classmethod
    def get_current(cls, no_error: Literal[True]) -> I18n | None: ...

    @overload
    @classmethod
    def get_current(cls, no_error: Literal[False]) -> I18n: ...

    @classmethod
    def get_current(cls, no_error: bool = True) -> I18n | None:
        return I18n.get_current(True) if no_error else I18n.get_current(False)

    @classmethod
    def set_current(cls, value: I18n) -> contextvars.Token[I18n]:
        return I18n.set_current(value)

    @classmethod
    def reset_current(cls, token: contextvars.Token[I18n]) -> None:
        I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return dict(catalogs())


@lru_cache
def get_i18n() -> PoI18n:
    return PoI18n(path=LOCALES_DIR, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)
