"""Files users send for media inputs: what Telegram delivered, checked against what a model accepts.

Telegram says *how* a file arrived (``photo``, ``document``, ``video``, ``video_note``, ``audio``,
``voice``, ``animation``); a model input accepts *kinds* of media (image, video, audio) in some formats.
A photo is always a JPEG; a file sent as a document counts by its MIME type; a voice message is OGG audio;
a video note is an MP4 video.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import FieldError
from catalog.mediatypes import format_names, normalize_mime
from catalog.specs import InputSpec, MediaAccept, MediaClass

TELEGRAM_KINDS = ("photo", "document", "video", "video_note", "audio", "voice", "animation")

# The MIME type Telegram gives (or implies) per kind when the message carries none.
_DEFAULT_MIME = {
    "photo": "image/jpeg",
    "video": "video/mp4",
    "video_note": "video/mp4",
    "animation": "video/mp4",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
}


def delivered_media(kind: str, mime_type: str | None) -> tuple[MediaClass | None, str | None]:
    """What a Telegram message carries: the kind of media (None if not image/video/audio) and its MIME."""
    if kind == "photo":
        return "image", "image/jpeg"
    if kind == "voice":
        return "audio", "audio/ogg"
    if kind == "video_note":
        return "video", "video/mp4"
    if kind not in TELEGRAM_KINDS:
        return None, normalize_mime(mime_type)
    mime = normalize_mime(mime_type) or _DEFAULT_MIME.get(kind)
    main = mime.partition("/")[0] if mime else ""
    if kind == "video":
        return "video", mime if main == "video" else None
    if kind == "audio":
        return "audio", mime if main == "audio" else None
    if kind == "animation":  # a GIF, which Telegram usually converts to a silent MP4
        return ("image" if main == "image" else "video"), mime
    # A document: only its MIME type tells what it is.
    if main in ("image", "video", "audio"):
        return main, mime  # type: ignore[return-value]
    return None, mime


def check_media(field: InputSpec, *, kind: str, mime_type: str | None, size: int | None) -> FieldError | None:
    """Why this file does not fit ``field`` (a media input), or None when it does.

    Checked in order: the kind of media, its format, its size (unknown sizes are not refused here: the
    upload step checks the real size again).
    """
    accept = field.accept
    if accept is None:  # not a media input
        return FieldError(field=field.name, rule="unknown_field", title=field.title)
    media, mime = delivered_media(kind, mime_type)
    if media is None or media not in accept.kinds:
        return _error(field, accept, "media_kind", actual=media or kind)
    if mime is None or mime not in accept.mime_types:
        return _error(field, accept, "media_type", actual=mime)
    if size is not None and size > accept.max_bytes:
        return _error(field, accept, "media_size", actual=size)
    return None


def accept_limits(accept: MediaAccept) -> dict[str, Any]:
    """What a FieldError carries so that its message renders without the catalog."""
    return {
        "kinds": list(accept.kinds),
        "mime_types": list(accept.mime_types),
        "formats": format_names(accept.mime_types),
        "max_bytes": accept.max_bytes,
        "max_mb": accept.max_mb_shown,
    }


def _error(field: InputSpec, accept: MediaAccept, rule: str, *, actual: object) -> FieldError:
    return FieldError(
        field=field.name,
        rule=rule,  # type: ignore[arg-type]
        limits=accept_limits(accept),
        actual=actual,
        title=field.title,
        media=True,
    )
