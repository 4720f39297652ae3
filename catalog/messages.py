"""User-facing sentences in Russian and English: validation errors and counted words.

Russian titles differ in gender, so sentences speak of «поле» (neuter) rather than agree with the title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog.mediatypes import format_name

if TYPE_CHECKING:
    from catalog.errors import FieldError

_MAX_LISTED = 10  # long enums (90 voices) are cut short in messages


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian form for ``n``: 1 кредит, 2 кредита, 5 кредитов, 11 кредитов, 21 кредит."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def plural_en(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def credits_word(n: int, lang: str) -> str:
    if lang == "ru":
        return plural_ru(n, "кредит", "кредита", "кредитов")
    return plural_en(n, "credit", "credits")


def format_value(value: Any, lang: str) -> str:
    """Numbers as people write them (``0,5`` in Russian), booleans as yes/no, the rest as text."""
    if isinstance(value, bool):
        return {"ru": ("да", "нет"), "en": ("yes", "no")}[_lang(lang)][0 if value else 1]
    if isinstance(value, float):
        text = f"{value:g}"
        return text.replace(".", ",") if lang == "ru" else text
    return str(value)


def _lang(lang: str) -> str:
    return "ru" if lang == "ru" else "en"


def _allowed(values: list[Any], lang: str) -> str:
    if len(values) <= _MAX_LISTED + 2:  # "and 1 more" would be longer than the value itself
        return ", ".join(format_value(v, lang) for v in values)
    shown = ", ".join(format_value(v, lang) for v in values[:_MAX_LISTED])
    more = len(values) - _MAX_LISTED
    return shown + (f" и ещё {more}" if lang == "ru" else f" and {more} more")


def _expected(error: FieldError, lang: str) -> str:
    expected = error.limits.get("expected", "")
    if error.media:
        expected = "media_list" if expected == "array" else "media"
    names = {
        "ru": {
            "string": "текст",
            "boolean": "да или нет",
            "integer": "целое число",
            "number": "число",
            "array": "список",
            "media": "файл или ссылка",
            "media_list": "файлы или ссылки",
        },
        "en": {
            "string": "text",
            "boolean": "yes or no",
            "integer": "a whole number",
            "number": "a number",
            "array": "a list",
            "media": "a file or a link",
            "media_list": "files or links",
        },
    }[lang]
    return names.get(expected, expected)


def _counted_ru(n: int, what: str) -> str:
    # After «не более» / «не менее» Russian takes the genitive: 1 символа, 5 символов, 21 файла.
    forms = {
        "chars": ("символа", "символов"),
        "files": ("файла", "файлов"),
        "items": ("элемента", "элементов"),
    }
    one, many = forms[what]
    return one if n % 10 == 1 and n % 100 != 11 else many


def _counted_en(n: int, what: str) -> str:
    forms = {"chars": ("character", "characters"), "files": ("file", "files"), "items": ("item", "items")}
    return plural_en(n, *forms[what])


def _megabytes(size: int | float, lang: str) -> str:
    """A size in bytes as decimal megabytes, rounded up to a tenth: never shown at the limit it broke."""
    tenths = -(-int(size) // 100_000)
    return format_value(tenths / 10 if tenths % 10 else tenths // 10, lang)


def media_hint(limits: dict[str, Any], lang: str) -> str:
    """What to send, e.g. "Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB."."""
    lang = _lang(lang)
    kinds = list(limits.get("kinds") or [])
    mime_types = set(limits.get("mime_types") or [])
    formats = ", ".join(limits.get("formats") or [])
    formats = f" ({formats})" if formats else ""
    size = format_value(limits.get("max_mb", 20), lang)
    voice = "audio/ogg" in mime_types
    if lang == "ru":
        what = {
            "image": "фото или изображение файлом" if "image/jpeg" in mime_types else "изображение файлом",
            "video": "видео",
            "audio": "аудиофайл или голосовое сообщение" if voice else "аудиофайл",
        }
        return f"Отправьте {_joined([what[k] for k in kinds], 'или')}{formats} до {size} МБ."
    what = {
        "image": "a photo or an image file" if "image/jpeg" in mime_types else "an image file",
        "video": "a video",
        "audio": "an audio file or a voice message" if voice else "an audio file",
    }
    return f"Send {_joined([what[k] for k in kinds], 'or')}{formats} up to {size} MB."


def _joined(parts: list[str], word: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def _media_error_message(error: FieldError, title: str, lang: str) -> str:
    hint = media_hint(error.limits, lang)
    actual = error.actual
    if lang == "ru":
        if error.rule == "media_kind":
            what = {"image": "изображение", "video": "видео", "audio": "аудио"}.get(actual, "такой файл")
            return f"Поле «{title}»: {what} здесь не подходит. {hint}"
        if error.rule == "media_type":
            name = format_name(actual)
            problem = f"формат {name} не поддерживается" if name else "формат файла не поддерживается"
            return f"Поле «{title}»: {problem}. {hint}"
        return f"Поле «{title}»: файл слишком большой ({_megabytes(actual or 0, lang)} МБ). {hint}"
    if error.rule == "media_kind":
        what = {"image": "an image", "video": "a video", "audio": "audio"}.get(actual, "this kind of file")
        return f"{title}: {what} is not accepted here. {hint}"
    if error.rule == "media_type":
        name = format_name(actual)
        problem = f"{name} files are not accepted" if name else "this file format is not accepted"
        return f"{title}: {problem}. {hint}"
    return f"{title}: the file is too large ({_megabytes(actual or 0, lang)} MB). {hint}"


def field_error_message(error: FieldError, lang: str) -> str:
    lang = _lang(lang)
    title = (error.title.get(lang) or error.title.get("en") or error.field) if error.title else error.field
    if error.rule in ("media_kind", "media_type", "media_size"):
        return _media_error_message(error, title, lang)
    reason = f" {error.reason.get(lang) or error.reason['en']}" if error.reason else ""
    limit = error.limits.get("min", error.limits.get("max"))
    limit_text = format_value(limit, lang) if limit is not None else ""
    actual = format_value(error.actual, lang)
    unit = "files" if error.media else "items"
    if error.rule in ("min_length", "max_length"):
        unit = "chars"

    if lang == "ru":
        counted = _counted_ru(limit, unit) if isinstance(limit, int) else ""
        field = f"Поле «{title}»"
        match error.rule:
            case "required":
                return f"{field} обязательно{reason}." if reason else f"Заполните поле «{title}»."
            case "type":
                return f"{field}{reason}: ожидается {_expected(error, lang)}."
            case "enum":
                return (
                    f"{field}{reason}: выберите одно из значений: {_allowed(error.limits['allowed'], lang)}."
                )
            case "min":
                return f"{field}{reason}: значение должно быть не меньше {limit_text} (у вас {actual})."
            case "max":
                return f"{field}{reason}: значение должно быть не больше {limit_text} (у вас {actual})."
            case "min_length":
                return f"{field} слишком короткое{reason}: не менее {limit_text} {counted} (у вас {actual})."
            case "max_length":
                return f"{field} слишком длинное{reason}: не более {limit_text} {counted} (у вас {actual})."
            case "min_items":
                return f"{field}{reason}: нужно не менее {limit_text} {counted} (у вас {actual})."
            case "max_items":
                return f"{field}{reason}: можно не более {limit_text} {counted} (у вас {actual})."
            case "unknown_field":
                return f"У этой модели нет параметра «{error.field}»."
            case "system_field":
                return f"{field} заполняется автоматически, его нельзя задать."
            case "disabled_model":
                return "Эта модель временно недоступна."

    counted = _counted_en(limit, unit) if isinstance(limit, int) else ""
    match error.rule:
        case "required":
            # "Required: Source images." reads right whether the title is singular or plural.
            return f"Required{reason}: {title}."
        case "type":
            return f"{title}{reason}: expected {_expected(error, lang)}."
        case "enum":
            return f"{title}{reason}: choose one of {_allowed(error.limits['allowed'], lang)}."
        case "min":
            return f"{title}{reason}: must be at least {limit_text} (you sent {actual})."
        case "max":
            return f"{title}{reason}: must be at most {limit_text} (you sent {actual})."
        case "min_length":
            return f"{title} is too short{reason}: at least {limit_text} {counted} (you sent {actual})."
        case "max_length":
            return f"{title} is too long{reason}: at most {limit_text} {counted} (you sent {actual})."
        case "min_items":
            return f"{title}{reason}: send at least {limit_text} {counted} (you sent {actual})."
        case "max_items":
            return f"{title}{reason}: at most {limit_text} {counted} (you sent {actual})."
        case "unknown_field":
            return f"This model has no option “{error.field}”."
        case "system_field":
            return f"{title} is set automatically and cannot be changed."
        case "disabled_model":
            return "This model is temporarily unavailable."
    raise AssertionError(f"no message for rule {error.rule!r}")
