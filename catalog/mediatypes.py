"""MIME types of user files: their usual aliases and the names people know them by (JPEG, MP3)."""

from __future__ import annotations

# Spellings of one format, reduced to the one the catalog data uses.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "image/x-bmp": "image/bmp",
    "audio/mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/aacp": "audio/aac",
    "audio/x-aac": "audio/aac",
    "audio/x-flac": "audio/flac",
    "audio/opus": "audio/ogg",
    "audio/x-ogg": "audio/ogg",
    "video/x-m4v": "video/mp4",
    "video/mov": "video/quicktime",
}

# How a format is named in messages.
FORMAT_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
    "image/heic": "HEIC",
    "image/avif": "AVIF",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/x-matroska": "MKV",
    "video/webm": "WebM",
    "audio/mpeg": "MP3",
    "audio/wav": "WAV",
    "audio/aac": "AAC",
    "audio/mp4": "M4A",
    "audio/ogg": "OGG",
    "audio/flac": "FLAC",
    "audio/x-ms-wma": "WMA",
}


def normalize_mime(mime_type: str | None) -> str | None:
    """``mime_type`` lower-cased, without parameters, with aliases resolved; None for blank."""
    if not mime_type or not mime_type.strip():
        return None
    bare = mime_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def format_name(mime_type: str | None) -> str | None:
    """ "JPEG" for image/jpeg; the subtype in capitals for formats without a name here; None if unknown."""
    mime = normalize_mime(mime_type)
    if mime is None or "/" not in mime:
        return None
    return FORMAT_NAMES.get(mime) or mime.partition("/")[2].removeprefix("x-").upper() or None


def format_names(mime_types: list[str]) -> list[str]:
    """Format names of ``mime_types`` in their order, each once."""
    names: list[str] = []
    for mime in mime_types:
        name = format_name(mime)
        if name and name not in names:
            names.append(name)
    return names
