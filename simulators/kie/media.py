"""The small, real media files the simulator hands out as generation results.

The PNG is drawn here with zlib/struct. The MP4 (H.264 + AAC, 1 s) and MP3 (1 s) were made once with
ffmpeg and are committed under ``assets/``: nothing at run time needs ffmpeg.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache
from importlib import resources

from simulators.kie.config import MediaKind

EXTENSION: dict[MediaKind, str] = {"image": "png", "video": "mp4", "audio": "mp3"}
MIME_TYPES = {"png": "image/png", "mp4": "video/mp4", "mp3": "audio/mpeg"}

# Market model ids whose names say "this makes a video/audio"; everything else makes images.
_VIDEO_HINTS = (
    "video", "kling", "veo", "sora", "wan", "hailuo", "seedance", "infinitalk", "avatar", "topaz/video",
)  # fmt: skip
_AUDIO_HINTS = ("elevenlabs", "suno")


def market_output(model: str, overrides: dict[str, MediaKind]) -> MediaKind:
    """What a Market model produces: the configured map first, then a name heuristic."""
    if model in overrides:
        return overrides[model]
    name = model.lower()
    if any(hint in name for hint in _AUDIO_HINTS):
        return "audio"
    if any(hint in name for hint in _VIDEO_HINTS):
        return "video"
    return "image"


def png(width: int = 64, height: int = 64) -> bytes:
    """A valid RGB PNG with a colour gradient (so it is visibly an image, not a flat square)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "None" for this scanline
        for x in range(width):
            rows += bytes((x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), 160))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


@cache
def asset(extension: str) -> bytes | None:
    """Bytes of the sample file for an extension (``png``, ``mp4``, ``mp3``); None if unknown."""
    if extension == "png":
        return png()
    if extension in ("mp4", "mp3"):
        return resources.files("simulators.kie").joinpath("assets", f"sample.{extension}").read_bytes()
    return None
