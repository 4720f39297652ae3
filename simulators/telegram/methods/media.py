"""Media messages. Files come as uploads, URLs (fetched by the simulator, as Telegram does) or file_ids."""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .. import errors
from ..config import MB
from ..errors import ApiError, bad_request, too_large
from ..filetypes import image_size, sniff_mime
from ..models import JSON, MediaKind, StoredFile
from ..params import UploadedFile
from .common import message_caption, send_as_bot, target_chat
from .registry import Ctx, api_method

UPLOAD_LIMIT = {"photo": 10 * MB}  # others: 50 MB
URL_LIMIT = {"photo": 5 * MB}  # others: 20 MB
DEFAULT_UPLOAD_LIMIT = 50 * MB
DEFAULT_URL_LIMIT = 20 * MB
# What Telegram accepts by URL for each kind (documents: only GIF, PDF and ZIP).
URL_TYPES: dict[str, frozenset[str]] = {
    "photo": frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"}),
    "video": frozenset({"video/mp4"}),
    "animation": frozenset({"image/gif", "video/mp4"}),
    "audio": frozenset({"audio/mpeg", "audio/mp3", "audio/mp4", "audio/x-m4a", "audio/ogg", "audio/flac"}),
    "voice": frozenset({"audio/ogg", "audio/mpeg", "audio/mp4"}),
    "document": frozenset({"application/pdf", "application/zip", "image/gif"}),
}
MAX_PHOTO_SIDES = 10_000  # width + height
MAX_PHOTO_RATIO = 20


async def resolve_media(ctx: Ctx, value: str | UploadedFile, kind: MediaKind, item: Any = None) -> StoredFile:
    """The stored file for an upload, a URL or a file_id (``item``: an InputMedia's extra fields)."""
    if isinstance(value, UploadedFile):
        if len(value.data) > UPLOAD_LIMIT.get(kind, DEFAULT_UPLOAD_LIMIT):
            raise too_large()
        if not value.data:
            raise bad_request("file must be non-empty")
        mime = sniff_mime(value.data, value.filename)
        return store_media(ctx, value.data, kind, mime, value.filename, item)
    if value.startswith(("http://", "https://")):
        data, mime, name = await fetch_url(ctx, value, kind)
        return store_media(ctx, data, kind, mime, name, item)
    stored = ctx.state.files.get(value)
    if stored is None:
        raise bad_request(errors.WRONG_FILE_ID)
    if stored.kind != kind and (kind != "document" or stored.kind == "photo"):
        raise bad_request(f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}")
    return stored


def store_media(
    ctx: Ctx, data: bytes, kind: MediaKind, mime: str, file_name: str | None, item: Any = None
) -> StoredFile:
    """Check the file the way Telegram does for its kind, then keep it."""
    fields = item if item is not None else ctx.params.fields
    meta: dict[str, Any] = {}
    if kind == "photo":
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * max(
            1, min(width, height)
        ):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        meta = {"width": width, "height": height}
    else:
        meta["file_name"] = file_name if kind in ("document", "video", "audio", "animation") else None
        sniffed = image_size(data) if kind == "animation" else None
        width, height = sniffed or (_int(fields, "width"), _int(fields, "height"))
        meta.update(width=width, height=height, duration=_int(fields, "duration"))
        if kind == "audio":
            meta.update(performer=fields.get("performer"), title=fields.get("title"))
    return ctx.state.store_file(data, kind, mime, **meta)


async def fetch_url(ctx: Ctx, url: str, kind: MediaKind) -> tuple[bytes, str, str | None]:
    """Download a file like Telegram's servers do, with the same failures."""
    failed = bad_request(errors.URL_FETCH_FAILED)
    limit = URL_LIMIT.get(kind, DEFAULT_URL_LIMIT)
    timeout = aiohttp.ClientTimeout(total=ctx.engine.config.url_fetch_timeout)
    try:
        async with ctx.engine.http.get(url, timeout=timeout) as response:
            if response.status != 200:
                raise failed
            if response.content_type not in URL_TYPES[kind]:
                raise bad_request(errors.URL_WRONG_TYPE)
            if (response.content_length or 0) > limit:
                raise failed  # Telegram gives up on files over its by-URL limit the same way
            chunks, size = [], 0
            async for chunk in response.content.iter_chunked(256 * 1024):
                size += len(chunk)
                if size > limit:
                    raise failed
                chunks.append(chunk)
            data, mime = b"".join(chunks), response.content_type
    except ApiError:
        raise
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise failed from None
    name = posixpath.basename(urlsplit(url).path) or None
    return data, mime, name


def _int(fields: Any, name: str) -> int:
    try:
        return int(fields.get(name) or 0)
    except (TypeError, ValueError):
        return 0


def _media_sender(kind: MediaKind) -> None:
    async def send(ctx: Ctx) -> JSON:
        chat = target_chat(ctx)
        caption, entities = message_caption(ctx)
        value = ctx.params.media(kind)
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        stored = await resolve_media(ctx, value, kind)
        media = stored.siblings if kind == "photo" else [stored]
        message = send_as_bot(
            ctx, chat, media_kind=kind, media=media, caption=caption, caption_entities=entities
        )
        return message.to_api()

    send.__name__ = f"send_{kind}"
    api_method(f"send{kind.capitalize()}")(send)


for _kind in ("photo", "video", "audio", "voice", "document", "animation"):
    _media_sender(_kind)  # type: ignore[arg-type]


GROUP_KINDS = frozenset({"photo", "video", "audio", "document"})


@api_method("sendMediaGroup")
async def send_media_group(ctx: Ctx) -> list[JSON]:
    chat = target_chat(ctx)
    items = ctx.params.get_json("media")
    if not isinstance(items, list) or not items:
        raise bad_request('parameter "media" is required')
    if len(items) > 10:
        raise bad_request("too much messages to send as an album")
    if len(items) < 2:
        raise bad_request("media group must contain 2-10 items")
    if not all(isinstance(item, dict) for item in items):
        raise bad_request("can't parse InputMedia: object expected")
    kinds = {item.get("type") for item in items}
    if (len(kinds) != 1 and not kinds <= {"photo", "video"}) or not kinds <= GROUP_KINDS:
        # Documents and audio only group with their own kind; photos and videos may mix.
        raise bad_request("MEDIA_GROUP_INVALID")
    prepared = []
    for item in items:  # everything is checked before the first message appears
        caption, entities = message_caption(ctx, item)
        value = ctx.params.resolve(item.get("media"))
        if not value:
            raise bad_request("can't parse InputMedia: media not found")
        prepared.append(
            (item["type"], await resolve_media(ctx, value, item["type"], item), caption, entities)
        )
    group_id = ctx.state.numeric_id()
    messages = []
    for kind, stored, caption, entities in prepared:
        media = stored.siblings if kind == "photo" else [stored]
        message = send_as_bot(
            ctx, chat, media_kind=kind, media=media, caption=caption, caption_entities=entities,
            media_group_id=group_id, reply_markup=None,
        )  # fmt: skip
        messages.append(message.to_api())
    return messages
