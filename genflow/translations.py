"""Translations without aiogram: gettext catalogs in ``locales/<lang>/LC_MESSAGES/messages.po``.

The .po files are the single source: they are compiled in memory at first use (Babel), so there is no build
step and no binary file to keep in sync. English is the source language (the msgids); plural forms come from
each catalog's ``Plural-Forms`` header. The catalog, the workers and the bot all translate through here (the
bot through aiogram's I18n, built on the same catalogs: ``genflow.i18n``).
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"


@cache
def catalogs() -> dict[str, gettext.GNUTranslations]:
    """Every language's compiled catalog, by language code (English has none: its msgids are the text)."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for po_path in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as po:
            catalog = read_po(po)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations[po_path.parent.parent.name] = gettext.GNUTranslations(buffer)
    return translations


def pick_language(code: str | None) -> str:
    """Map a Telegram ``language_code`` (e.g. "ru", "uk", "en-US") to a language we speak."""
    base = (code or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def _catalog(language: str) -> gettext.NullTranslations:
    return catalogs().get(pick_language(language)) or gettext.NullTranslations()


def translate(text: str, language: str, **values: object) -> str:
    """``text`` in ``language``, with ``values`` filled in: ``translate("Done", "ru")``."""
    result = _catalog(language).gettext(text)
    return result.format(**values) if values else result


def ntranslate(singular: str, plural: str, n: int, language: str, **values: object) -> str:
    """The form for ``n`` (Russian has three), with ``n`` and ``values`` filled in:
    ``ntranslate("{n} credit", "{n} credits", 5, "ru")`` → "5 кредитов"."""
    return _catalog(language).ngettext(singular, plural, n).format(n=n, **values)


def N_(text: str) -> str:
    """Mark a msgid that is translated later, from a variable (extraction finds it here)."""
    return text
