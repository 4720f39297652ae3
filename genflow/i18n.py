"""Translations: gettext catalogs in ``locales/<lang>/LC_MESSAGES/messages.po``, read through aiogram's I18n.

The .po files are the single source: they are compiled in memory at start-up (Babel), so there is no
build step and no binary file to keep in sync. English is the source language (the msgids).
"""

from __future__ import annotations

import contextvars
import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


class PoI18n(I18n):
    """aiogram's I18n reading .po catalogs directly."""

    # aiogram's gettext helpers look the current instance up in I18n's context variable, while a subclass
    # gets a variable of its own: share I18n's, so `with i18n.context():` works for this class too.
    @classmethod
    def get_current(cls, no_error: bool = True) -> I18n | None:  # type: ignore[override]
        return I18n.get_current(no_error)

    @classmethod
    def set_current(cls, value: I18n) -> contextvars.Token:  # type: ignore[override]
        return I18n.set_current(value)

    @classmethod
    def reset_current(cls, token: contextvars.Token) -> None:
        I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            with po_path.open("rb") as po:
                catalog = read_po(po)
            buffer = BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            translations[po_path.parent.parent.name] = gettext.GNUTranslations(buffer)
        return translations


@lru_cache
def get_i18n() -> PoI18n:
    return PoI18n(path=LOCALES_DIR, default_locale=DEFAULT_LANGUAGE, domain="messages")


def pick_language(code: str | None) -> str:
    """Map a Telegram ``language_code`` (e.g. "ru", "uk", "en-US") to a language we speak."""
    base = (code or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def translate(text: str, language: str, **values: object) -> str:
    """Translate outside a handler (activities, workers): ``translate("Done", "ru")``."""
    result = get_i18n().gettext(text, locale=pick_language(language))
    return result.format(**values) if values else result
