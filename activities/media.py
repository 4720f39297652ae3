"""Prepare inputs: the user's Telegram files fetched (getFile) and uploaded to KIE's file storage.

Bytes pass through this activity only; the workflow sees Telegram file ids before and KIE URLs after.
"""

from __future__ import annotations

import mimetypes
from io import BytesIO
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from kie.client import KieClient
from kie.errors import KieError
from workflows.models import PrepareInput

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


class MediaActivities:
    def __init__(self, bot: Bot, kie: KieClient) -> None:
        self.bot = bot
        self.kie = kie

    @activity.defn
    async def prepare_inputs(self, data: PrepareInput) -> dict[str, Any]:
        # Files already uploaded by an earlier attempt are remembered in the heartbeat details.
        done: dict[str, str] = (
            dict(activity.info().heartbeat_details[0]) if activity.info().heartbeat_details else {}
        )
        inputs = dict(data.inputs)
        for field in data.media_fields:
            value = inputs.get(field)
            if isinstance(value, list):
                inputs[field] = [await self._one(data.generation_id, v, done) for v in value]
            elif isinstance(value, str):
                inputs[field] = await self._one(data.generation_id, value, done)
        return inputs

    async def _one(self, generation_id: str, file_ref: str, done: dict[str, str]) -> str:
        if _is_url(file_ref):
            return file_ref
        if file_ref in done:
            return done[file_ref]
        try:
            file = await self.bot.get_file(file_ref)
            if file.file_size and file.file_size > TELEGRAM_DOWNLOAD_LIMIT:
                raise ApplicationError(
                    "file over Telegram's 20 MB download limit", type="MediaTooLarge", non_retryable=True
                )
            buffer = BytesIO()
            await self.bot.download_file(file.file_path or "", destination=buffer)
        except TelegramRetryAfter as err:
            from datetime import timedelta

            raise ApplicationError(
                "Telegram rate limit", next_retry_delay=timedelta(seconds=err.retry_after)
            ) from err
        except TelegramBadRequest as err:
            raise ApplicationError(
                f"Telegram refused the file: {err.message}", type="MediaUnavailable", non_retryable=True
            ) from err
        except TelegramNetworkError as err:
            raise ApplicationError(f"Telegram unreachable: {err.message}", type="TelegramNetwork") from err
        activity.heartbeat(done)
        name = (file.file_path or "file").rsplit("/", 1)[-1]
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            url = await self.kie.upload(
                buffer.getvalue(), file_name=name, upload_path=f"genflow/{generation_id}", mime_type=mime
            )
        except KieError as err:
            raise ApplicationError(str(err), type="KieUpload", non_retryable=not err.transient) from err
        done[file_ref] = url
        activity.heartbeat(done)
        return url
