"""What the catalog says to users: validation errors, media hints, counted words.

Every sentence goes through the gettext catalogs the bot uses (``locales/*/messages.po``, via
``genflow.translations``), English being the source; counted words take the catalog's plural forms (Russian
has three, and «не более 5 символов» is a whole phrase, so the phrase is the message). Russian titles differ
in gender, so sentences speak of «поле» (neuter) rather than agree with the title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from babel.numbers import get_decimal_symbol

from catalog.mediatypes import format_name
from genflow.translations import ntranslate, pick_language
from genflow.translations import translate as _

if TYPE_CHECKING:
    from catalog.errors import FieldError

_MAX_LISTED = 10  # long enums (90 voices) are cut short in messages


def credits_text(n: int, lang: str) -> str:
    """ "4 credits", "4 кредита"."""
    return ntranslate("{n} credit", "{n} credits", n, lang)


def credits_from(n: int, lang: str) -> str:
    """A starting price: "from 4 credits", «от 4 кредитов» (Russian «от» takes the genitive)."""
    return ntranslate("from {n} credit", "from {n} credits", n, lang)


def format_value(value: Any, lang: str) -> str:
    """Numbers as people write them (``0,5`` in Russian), booleans as yes/no, the rest as text."""
    if isinstance(value, bool):
        return _("yes", lang) if value else _("no", lang)
    if isinstance(value, float):
        return f"{value:g}".replace(".", get_decimal_symbol(pick_language(lang)))
    return str(value)


def one_of(parts: list[str], lang: str) -> str:
    """ "a, b or c" in the user's language."""
    if len(parts) <= 1:
        return "".join(parts)
    return _("{first} or {last}", lang, first=", ".join(parts[:-1]), last=parts[-1])


def _allowed(values: list[Any], lang: str) -> str:
    if len(values) <= _MAX_LISTED + 2:  # "and 1 more" would be longer than the value itself
        return ", ".join(format_value(v, lang) for v in values)
    shown = ", ".join(format_value(v, lang) for v in values[:_MAX_LISTED])
    return _("{shown} and {more} more", lang, shown=shown, more=len(values) - _MAX_LISTED)


def _expected(error: FieldError, lang: str) -> str:
    expected: str = error.limits.get("expected", "")
    if error.media:
        expected = "media_list" if expected == "array" else "media"
    names = {
        "string": _("text", lang),
        "boolean": _("yes or no", lang),
        "integer": _("a whole number", lang),
        "number": _("a number", lang),
        "array": _("a list", lang),
        "media": _("a file or a link", lang),
        "media_list": _("files or links", lang),
    }
    return names.get(expected, expected)


def _megabytes(size: int | float, lang: str) -> str:
    """A size in bytes as decimal megabytes, rounded up to a tenth: never shown at the limit it broke."""
    tenths = -(-int(size) // 100_000)
    return format_value(tenths / 10 if tenths % 10 else tenths // 10, lang)


def media_hint(limits: dict[str, Any], lang: str) -> str:
    """What to send, e.g. "Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB."."""
    kinds = list(limits.get("kinds") or [])
    mime_types = set(limits.get("mime_types") or [])
    formats = ", ".join(limits.get("formats") or [])
    formats = " (" + formats + ")" if formats else ""
    what = {
        "image": _("a photo or an image file", lang)
        if "image/jpeg" in mime_types
        else _("an image file", lang),
        "video": _("a video", lang),
        "audio": _("an audio file or a voice message", lang)
        if "audio/ogg" in mime_types
        else _("an audio file", lang),
    }
    return _(
        "Send {what}{formats} up to {size} MB.",
        lang,
        what=one_of([what[k] for k in kinds], lang),
        formats=formats,
        size=format_value(limits.get("max_mb", 20), lang),
    )


def _media_error_message(error: FieldError, title: str, lang: str) -> str:
    hint = media_hint(error.limits, lang)
    actual = error.actual
    if error.rule == "media_kind":
        what = {
            "image": _("an image", lang),
            "video": _("a video", lang),
            "audio": _("audio", lang),
        }.get(actual) or _("this kind of file", lang)
        return _("{title}: {what} is not accepted here. {hint}", lang, title=title, what=what, hint=hint)
    if error.rule == "media_type":
        name = format_name(actual)
        if name:
            return _(
                "{title}: {name} files are not accepted. {hint}", lang, title=title, name=name, hint=hint
            )
        return _("{title}: this file format is not accepted. {hint}", lang, title=title, hint=hint)
    size = _megabytes(actual or 0, lang)
    return _("{title}: the file is too large ({size} MB). {hint}", lang, title=title, size=size, hint=hint)


def _counted(error: FieldError, n: int, lang: str, **values: Any) -> str:
    """The sentences with a count in them, whose words agree with the count."""
    media = error.media
    match error.rule:
        case "min_length":
            return ntranslate(
                "{title} is too short{reason}: at least {n} character (you sent {actual}).",
                "{title} is too short{reason}: at least {n} characters (you sent {actual}).",
                n,
                lang,
                **values,
            )
        case "max_length":
            return ntranslate(
                "{title} is too long{reason}: at most {n} character (you sent {actual}).",
                "{title} is too long{reason}: at most {n} characters (you sent {actual}).",
                n,
                lang,
                **values,
            )
        case "min_items" if media:
            return ntranslate(
                "{title}{reason}: send at least {n} file (you sent {actual}).",
                "{title}{reason}: send at least {n} files (you sent {actual}).",
                n,
                lang,
                **values,
            )
        case "min_items":
            return ntranslate(
                "{title}{reason}: send at least {n} item (you sent {actual}).",
                "{title}{reason}: send at least {n} items (you sent {actual}).",
                n,
                lang,
                **values,
            )
        case "max_items" if media:
            return ntranslate(
                "{title}{reason}: at most {n} file (you sent {actual}).",
                "{title}{reason}: at most {n} files (you sent {actual}).",
                n,
                lang,
                **values,
            )
        case _:
            return ntranslate(
                "{title}{reason}: at most {n} item (you sent {actual}).",
                "{title}{reason}: at most {n} items (you sent {actual}).",
                n,
                lang,
                **values,
            )


def field_error_message(error: FieldError, lang: str) -> str:
    lang = pick_language(lang)
    title = (error.title.get(lang) or error.title.get("en") or error.field) if error.title else error.field
    if error.rule in ("media_kind", "media_type", "media_size"):
        return _media_error_message(error, title, lang)
    reason = f" {error.reason.get(lang) or error.reason['en']}" if error.reason else ""
    limit = error.limits.get("min", error.limits.get("max"))
    values = {"title": title, "reason": reason, "actual": format_value(error.actual, lang)}
    match error.rule:
        case "required" if reason:
            return _("Required{reason}: {title}.", lang, **values)
        case "required":
            # "Required: Source images." reads right whether the title is singular or plural.
            return _("Required: {title}.", lang, **values)
        case "type":
            return _("{title}{reason}: expected {expected}.", lang, expected=_expected(error, lang), **values)
        case "enum":
            allowed = _allowed(error.limits["allowed"], lang)
            return _("{title}{reason}: choose one of {allowed}.", lang, allowed=allowed, **values)
        case "min":
            limit_text = format_value(limit, lang)
            return _(
                "{title}{reason}: must be at least {limit} (you sent {actual}).",
                lang,
                limit=limit_text,
                **values,
            )
        case "max":
            limit_text = format_value(limit, lang)
            return _(
                "{title}{reason}: must be at most {limit} (you sent {actual}).",
                lang,
                limit=limit_text,
                **values,
            )
        case "min_length" | "max_length" | "min_items" | "max_items":
            return _counted(error, int(limit or 0), lang, **values)
        case "unknown_field":
            return _("This model has no option “{field}”.", lang, field=error.field)
        case "system_field":
            return _("{title} is set automatically and cannot be changed.", lang, **values)
        case "disabled_model":
            return _("This model is temporarily unavailable.", lang)
    raise AssertionError(f"no message for rule {error.rule!r}")
