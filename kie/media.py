"""What kind of file a result URL points at."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from kie.models import MediaType

_BY_EXTENSION: dict[str, MediaType] = {
    **dict.fromkeys(
        ("png", "jpg", "jpeg", "webp", "gif", "bmp", "heic", "avif", "tif", "tiff"), MediaType.IMAGE
    ),
    **dict.fromkeys(("mp4", "mov", "webm", "mkv", "avi", "m4v", "mpeg", "mpg"), MediaType.VIDEO),
    **dict.fromkeys(("mp3", "wav", "m4a", "aac", "ogg", "oga", "flac", "opus"), MediaType.AUDIO),
}


def media_from_url(url: str) -> MediaType:
    """Guess from the path's extension (the query string is ignored); UNKNOWN when there is none."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return MediaType.UNKNOWN
    extension = posixpath.splitext(path)[1].lstrip(".").lower()
    return _BY_EXTENSION.get(extension, MediaType.UNKNOWN)


def media_from_output(output: str | None) -> MediaType | None:
    """The catalog's ``output`` ("image", "video" or "audio") as a MediaType; None for anything else."""
    try:
        media = MediaType((output or "").strip().lower())
    except ValueError:
        return None
    return None if media is MediaType.UNKNOWN else media
