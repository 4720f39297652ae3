"""Prepare inputs: the user's Telegram files fetched (getFile) and uploaded to KIE's file storage.

Bytes pass through this activity only; the workflow sees Telegram file ids before and KIE URLs after.

- Every file goes to ``genflow/<generation id>/`` on KIE's upload host, named by its Telegram
  ``file_unique_id``, so a repeated upload of the same file replaces rather than piles up.
- Heartbeats go out before and after each file, while a download is being written and while a large file
  is streamed to KIE; their details are the files already uploaded (Telegram file id → KIE URL), so a retry
  after a crash or a timeout uploads only what is missing.
- A file over the input's limit (the catalog's per-model limit, never above Telegram's 20 MB) or one that
  Telegram refuses fails at once and for good (``non_retryable``); network trouble is retried by Temporal.
"""

from __future__ import annotations

import io
import logging
import mimetypes
from collections.abc import AsyncIterator, Callable
from pathlib import PurePosixPath
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.telegram_errors import flood_control
from catalog import TELEGRAM_DOWNLOAD_LIMIT, Catalog, UnknownModel, get_catalog
from catalog.mediatypes import normalize_mime
from contracts import activities as contract
from contracts.activities import implements
from contracts.models import PrepareInput
from kie.client import KieClient
from kie.errors import KieError

log = logging.getLogger(__name__)

STREAM_CHUNK = 256 * 1024  # bytes per piece of a streamed upload; each piece heartbeats
DOWNLOAD_TIMEOUT = 120  # seconds for one getFile download (aiogram's default of 30 is tight for 20 MB)

# Error types the workflow (and operators) see.
MEDIA_TOO_LARGE = "MediaTooLarge"
MEDIA_UNAVAILABLE = "MediaUnavailable"
TELEGRAM_UNAVAILABLE = "TelegramUnavailable"
KIE_UPLOAD = "KieUpload"


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _too_large(size: int, limit: int) -> ApplicationError:
    return ApplicationError(
        f"the file is {_megabytes(size)}, over the limit of {_megabytes(limit)} for this input",
        {"size": size, "limit": limit},
        type=MEDIA_TOO_LARGE,
        non_retryable=True,
    )


class _HeartbeatingBuffer(io.BytesIO):
    """Where a download is written: heartbeats as bytes arrive and stops a file that outgrows ``limit``."""

    def __init__(self, limit: int, beat: Callable[[], None]) -> None:
        super().__init__()
        self.limit = limit
        self.beat = beat

    def write(self, data: Any) -> int:
        written = super().write(data)
        if self.tell() > self.limit:
            raise _too_large(self.tell(), self.limit)
        self.beat()
        return written


class MediaActivities:
    def __init__(self, bot: Bot, kie: KieClient, catalog: Catalog | None = None) -> None:
        self.bot = bot
        self.kie = kie
        self.catalog = catalog or get_catalog()

    @implements(contract.prepare_inputs)
    async def prepare_inputs(self, data: PrepareInput) -> dict[str, Any]:
        """``data.inputs`` with every Telegram file id in ``data.media_fields`` replaced by a KIE URL."""
        done = _remembered_uploads()
        if done:
            log.info(
                "resuming: %d file(s) already uploaded", len(done), extra={"workflow_id": data.generation_id}
            )
        inputs = dict(data.inputs)
        for field in data.media_fields:
            value = inputs.get(field)
            limit = self._limit(data.model_id, field)
            if isinstance(value, list):
                inputs[field] = [
                    await self._one(data.generation_id, v, done, limit) if isinstance(v, str) else v
                    for v in value
                ]
            elif isinstance(value, str):
                inputs[field] = await self._one(data.generation_id, value, done, limit)
        return inputs

    def _limit(self, model_id: str, field: str) -> int:
        try:
            accept = self.catalog.media_accept(model_id, field)
        except UnknownModel:
            accept = None
        return accept.max_bytes if accept is not None else TELEGRAM_DOWNLOAD_LIMIT

    async def _one(self, generation_id: str, file_ref: str, done: dict[str, str], limit: int) -> str:
        if _is_url(file_ref):
            return file_ref
        if file_ref in done:
            return done[file_ref]

        def beat() -> None:
            # Every heartbeat carries the uploads so far (only the newest one reaches the server); a copy,
            # as the SDK encodes it later.
            activity.heartbeat(dict(done))

        beat()
        data, name = await self._download(file_ref, limit, beat)
        mime = normalize_mime(mimetypes.guess_type(name)[0]) or "application/octet-stream"
        beat()
        url = await self._upload(
            data, name=name, mime=mime, upload_path=f"genflow/{generation_id}", beat=beat
        )
        done[file_ref] = url
        beat()
        log.info(
            "uploaded a user file to KIE (%d bytes, %s)",
            len(data),
            mime,
            extra={"workflow_id": generation_id},
        )
        return url

    async def _download(self, file_ref: str, limit: int, beat: Callable[[], None]) -> tuple[bytes, str]:
        """The file's bytes and the name to upload it under."""
        try:
            file = await self.bot.get_file(file_ref)
            if file.file_size is not None and file.file_size > limit:
                raise _too_large(file.file_size, limit)
            if not file.file_path:
                raise ApplicationError(
                    "Telegram gave no path for the file", type=MEDIA_UNAVAILABLE, non_retryable=True
                )
            buffer = _HeartbeatingBuffer(limit, beat)
            await self.bot.download_file(file.file_path, destination=buffer, timeout=DOWNLOAD_TIMEOUT)
        except TelegramRetryAfter as err:
            raise flood_control(err) from err
        except TelegramBadRequest as err:
            raise _refused(err) from err
        except (TelegramNetworkError, TelegramAPIError) as err:
            raise ApplicationError(f"Telegram unavailable: {err.message}", type=TELEGRAM_UNAVAILABLE) from err
        except aiohttp.ClientResponseError as err:
            # The download link (valid about an hour) failed: a retry asks getFile for a fresh one.
            raise ApplicationError(
                f"Telegram file download failed: HTTP {err.status}", type=TELEGRAM_UNAVAILABLE
            ) from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ApplicationError(
                f"Telegram file download failed: {type(err).__name__}: {err}", type=TELEGRAM_UNAVAILABLE
            ) from err
        extension = PurePosixPath(file.file_path).suffix.lower() or ".bin"
        return buffer.getvalue(), f"{file.file_unique_id}{extension}"

    async def _upload(
        self, data: bytes, *, name: str, mime: str, upload_path: str, beat: Callable[[], None]
    ) -> str:
        try:
            if len(data) <= self.kie.base64_limit:
                return await self.kie.upload_base64(
                    data, file_name=name, upload_path=upload_path, mime_type=mime
                )
            return await self.kie.upload_stream(
                _pieces(data, beat), file_name=name, upload_path=upload_path, mime_type=mime
            )
        except KieError as err:
            raise ApplicationError(
                f"upload to KIE failed: {err}", type=KIE_UPLOAD, non_retryable=not err.transient
            ) from err


async def _pieces(data: bytes, beat: Callable[[], None]) -> AsyncIterator[bytes]:
    """``data`` in pieces for a streamed upload, heartbeating as each one is taken."""
    view = memoryview(data)
    for start in range(0, len(view), STREAM_CHUNK):
        beat()
        yield bytes(view[start : start + STREAM_CHUNK])


def _refused(err: TelegramBadRequest) -> ApplicationError:
    message = err.message.lower()
    if "too big" in message:
        return ApplicationError(
            "Telegram refuses to serve files over 20 MB", type=MEDIA_TOO_LARGE, non_retryable=True
        )
    if "temporarily unavailable" in message:
        return ApplicationError(f"Telegram: {err.message}", type=TELEGRAM_UNAVAILABLE)
    return ApplicationError(
        f"Telegram refused the file: {err.message}", type=MEDIA_UNAVAILABLE, non_retryable=True
    )


def _remembered_uploads() -> dict[str, str]:
    """Files an earlier attempt uploaded (from its heartbeat details); anything unreadable is ignored."""
    details = activity.info().heartbeat_details
    if not details or not isinstance(details[0], dict):
        return {}
    return {k: v for k, v in details[0].items() if isinstance(k, str) and isinstance(v, str)}
