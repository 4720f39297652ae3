"""Telegram: the chat's status message and the delivery of results, through one aiogram ``Bot``.

Delivery tries, per file: by URL (Telegram fetches it) → download and upload → as a document → a link.
Error classes follow Telegram's: 429 waits exactly ``retry_after``; 403 means the user is unreachable;
413 (a subclass of the network error!) falls back instead of being retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.telegram_errors import retryable_telegram_errors
from activities.what_next import what_next
from catalog import Catalog, UnknownModel
from contracts import activities as contract
from contracts.activities import implements
from contracts.buttons import GenerationAction, GenerationOp, Menu, MenuTarget
from contracts.ids import parse_generation_id
from contracts.models import DeliverInput, DeliveryOutcome, NotifyInput, Reason, ResultFile, Stage
from db import Generations
from genflow.i18n import translate as _
from genflow.translations import N_
from genflow.wait_text import queue_text

log = logging.getLogger(__name__)

T = TypeVar("T")

PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
FILE_UPLOAD_LIMIT = 50 * 1024 * 1024

# What the status message says when a generation did not succeed (N_ marks them for extraction).
REASON_TEXT = {
    Reason.INVALID_INPUT: N_("Some inputs were not accepted. Please check them and try again."),
    Reason.MODEL_UNAVAILABLE: N_("This model is not available right now. Please choose another one."),
    Reason.INSUFFICIENT_CREDITS: N_("Not enough credits: you need {shortfall} more. Top up and try again."),
    Reason.FREE_LIMIT_REACHED: N_(
        "You have used today's free generations for this model. Come back tomorrow."
    ),
    Reason.INPUT_MEDIA_FAILED: N_("We could not read the file you sent. Please send it again."),
    Reason.KIE_REJECTED: N_(
        "The model refused this request (for example, its content rules). Try other inputs."
    ),
    Reason.MODEL_CHANGED: N_(
        "The model refused these settings: it has changed at our provider. Nothing was charged, and our "
        "team has been told. Please try another model for now."
    ),
    Reason.SERVICE_UNAVAILABLE: N_(
        "The generation service is temporarily unavailable. Please try again later."
    ),
    Reason.GENERATION_FAILED: N_("The model could not produce a result this time."),
    Reason.TIMED_OUT: N_("The model took too long to answer."),
    Reason.CANCELLED: N_("Cancelled."),
}


class Undeliverable(Exception):
    """The user cannot be reached (blocked the bot, deleted the account)."""


class TelegramActivities:
    def __init__(
        self, bot: Bot, generations: Generations, http: aiohttp.ClientSession, catalog: Catalog | None = None
    ) -> None:
        self.bot = bot
        self.generations = generations
        self.catalog = catalog
        self.http = http  # downloads of result files when Telegram cannot fetch a URL itself

    def _title(self, model_id: str, lang: str) -> str:
        """The model's name as the user saw it in the menu (its id when the catalog does not know it)."""
        if self.catalog is None:
            return model_id
        try:
            return self.catalog.get(model_id).title_for(lang)
        except UnknownModel:
            return model_id

    # ---- status message ------------------------------------------------------------------------------------
    @implements(contract.notify_status)
    async def notify_status(self, data: NotifyInput) -> None:
        lang = data.language
        text = self._status_text(data)
        buttons: list[list[InlineKeyboardButton]] = []
        key = _request_key(data.generation_id)
        if data.cancellable:
            buttons.append([_button(_("Cancel", lang), GenerationAction(op=GenerationOp.CANCEL, key=key))])
        if data.reason == Reason.INSUFFICIENT_CREDITS:
            buttons.append([_button(_("Top up", lang), Menu(to=MenuTarget.TOP_UP))])
        if data.stage in (Stage.FAILED, Stage.REJECTED, Stage.CANCELLED):
            buttons.append(
                [
                    _button(_("Try again", lang), GenerationAction(op=GenerationOp.AGAIN, key=key)),
                    _button(_("Home", lang), Menu(to=MenuTarget.HOME)),
                ]
            )
        markup = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
        await self._call(self._show_status(data, text, markup))

    def _status_text(self, data: NotifyInput) -> str:
        lang = data.language
        if data.stage == Stage.PREPARING:
            return _("⏳ Uploading your files for {model}…", lang, model=self._title(data.model_id, lang))
        if data.stage == Stage.QUEUED:
            return queue_text(data.queue, lang, model=self._title(data.model_id, lang))
        if data.stage == Stage.WAITING:
            text = _("🎨 Generating with {model}…", lang, model=self._title(data.model_id, lang))
            if data.progress is not None:
                text += "\n" + _("Progress: {percent}%", lang, percent=round(data.progress * 100))
            return text
        reason = data.reason or Reason.GENERATION_FAILED
        text = _(REASON_TEXT[reason], lang, shortfall=data.shortfall or 0)
        if data.stage in (Stage.FAILED, Stage.CANCELLED):
            text += "\n" + _("Nothing was charged: the held credits are back on your balance.", lang)
        return ("❌ " if data.stage != Stage.CANCELLED else "✖️ ") + text

    async def _show_status(self, data: NotifyInput, text: str, markup: InlineKeyboardMarkup | None) -> None:
        if data.message_id is not None:
            try:
                await self.bot.edit_message_text(
                    text=text, chat_id=data.chat_id, message_id=data.message_id, reply_markup=markup
                )
                return
            except TelegramBadRequest as err:
                if "not modified" in err.message:
                    return
                if "not found" not in err.message and "can't be edited" not in err.message:
                    raise
        await self.bot.send_message(data.chat_id, text, reply_markup=markup)

    # ---- delivery ------------------------------------------------------------------------------------------
    @implements(contract.deliver_result)
    async def deliver_result(self, data: DeliverInput) -> DeliveryOutcome:
        gid = data.generation_id
        # Files sent by an earlier attempt are in the heartbeat details: a retry does not send them twice.
        details = activity.info().heartbeat_details
        sent: list[str] = list(details[0]) if details else []
        methods: list[str] = []
        title = self._title(data.model_id, data.language)
        caption = _("✅ {model} · {price} credits", data.language, model=title, price=data.price)
        try:
            files = data.files
            if 2 <= len(files) <= 10 and not sent and _groupable(files):
                sent = await self._call(self._send_group(data.chat_id, files, caption))
                methods.append("media_group")
            else:
                for index, file in enumerate(files[len(sent) :], start=len(sent)):
                    file_id, method = await self._call(
                        self._send_one(
                            data.chat_id,
                            file,
                            caption if index == 0 else None,
                            data.language,
                            beat=lambda: activity.heartbeat(sent),
                        )
                    )
                    sent.append(file_id)
                    methods.append(method)
                    activity.heartbeat(sent)
        except Undeliverable as err:
            await self.generations.mark_delivery_failed(gid, "blocked")
            log.warning(
                "result not delivered: user unreachable", extra={"workflow_id": gid, "error": str(err)}
            )
            return DeliveryOutcome(delivered=False, file_ids=sent, failure="blocked")
        await self.generations.set_file_ids(gid, sent)
        await self.generations.set_stage(gid, Stage.DONE.value)
        if data.status_message_id is not None:
            await self._best_effort_delete(data.chat_id, data.status_message_id)
        if data.offer_follow_ups:
            await self._offer_follow_ups(data)
        return DeliveryOutcome(delivered=True, file_ids=sent, method=",".join(sorted(set(methods))))

    async def _offer_follow_ups(self, data: DeliverInput) -> None:
        """The "What next?" buttons under the result. Best effort: the result is delivered either way."""
        if self.catalog is None or (parsed := parse_generation_id(data.generation_id)) is None:
            return
        markup = what_next(self.catalog, data.model_id, parsed.request_key, data.language)
        if markup is None:
            return
        try:
            await self.bot.send_message(data.chat_id, _("✨ What next?", data.language), reply_markup=markup)
        except Exception:  # a failed offer must not send the result again on a retry
            log.info("follow-ups not offered", extra={"workflow_id": data.generation_id}, exc_info=True)

    async def _send_one(
        self, chat_id: int, file: ResultFile, caption: str | None, lang: str, *, beat: Callable[[], None]
    ) -> tuple[str, str]:
        try:
            return _file_id(await self._send(chat_id, file.media_type, file.url, caption)), "url"
        except TelegramBadRequest as err:
            log.info("Telegram could not fetch the URL, uploading instead: %s", err.message)
        except TelegramEntityTooLarge:
            pass
        data = await self._download(file.url, beat)
        limit = PHOTO_UPLOAD_LIMIT if file.media_type == "image" else FILE_UPLOAD_LIMIT
        name = file.url.rsplit("/", 1)[-1].split("?")[0] or "result"
        if data is not None and len(data) <= limit:
            try:
                upload = BufferedInputFile(data, filename=name)
                return _file_id(await self._send(chat_id, file.media_type, upload, caption)), "upload"
            except (TelegramBadRequest, TelegramEntityTooLarge):
                pass
        if data is not None and len(data) <= FILE_UPLOAD_LIMIT:
            try:
                upload = BufferedInputFile(data, filename=name)
                return _file_id(await self._send(chat_id, "document", upload, caption)), "document"
            except (TelegramBadRequest, TelegramEntityTooLarge):
                pass
        # Too big for a bot to upload: a link (KIE keeps result files for about a day).
        text = (caption + "\n" if caption else "") + _("Your file is ready: {url}", lang, url=file.url)
        message = await self.bot.send_message(chat_id, text)
        return f"link:{message.message_id}", "link"

    async def _send(
        self, chat_id: int, media_type: str, media: str | BufferedInputFile, caption: str | None
    ) -> Message:
        if media_type == "image":
            return await self.bot.send_photo(chat_id, media, caption=caption)
        if media_type == "video":
            return await self.bot.send_video(chat_id, media, caption=caption, supports_streaming=True)
        if media_type == "audio":
            return await self.bot.send_audio(chat_id, media, caption=caption)
        return await self.bot.send_document(chat_id, media, caption=caption)

    async def _send_group(self, chat_id: int, files: list[ResultFile], caption: str) -> list[str]:
        kinds = {"image": InputMediaPhoto, "video": InputMediaVideo, "audio": InputMediaAudio}
        media = [
            kinds.get(f.media_type, InputMediaDocument)(media=f.url, caption=caption if i == 0 else None)
            for i, f in enumerate(files)
        ]
        messages = await self.bot.send_media_group(chat_id, media)
        return [_file_id(m) for m in messages]

    async def _download(self, url: str, beat: Callable[[], None]) -> bytes | None:
        """The whole file, or up to one byte past the upload limit (enough to know it is too big)."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=300)) as response:
                if response.status != 200:
                    return None
                async for chunk in response.content.iter_chunked(1024 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    beat()  # keeps the list of files already sent in the heartbeat details
                    if size > FILE_UPLOAD_LIMIT:
                        break
        except (aiohttp.ClientError, TimeoutError):
            return None
        return b"".join(chunks)

    async def _best_effort_delete(self, chat_id: int, message_id: int) -> None:
        try:
            await self.bot.delete_message(chat_id, message_id)
        except Exception:  # the result is delivered; a stale status message is cosmetic
            log.debug("status message not deleted", exc_info=True)

    async def _call(self, coro: Awaitable[T]) -> T:
        """Map aiogram's errors onto Temporal's retry semantics."""
        try:
            with retryable_telegram_errors():
                return await coro
        except TelegramForbiddenError as err:
            raise Undeliverable(err.message) from err
        except TelegramMigrateToChat as err:
            raise ApplicationError(
                f"chat migrated to {err.migrate_to_chat_id}", type="TelegramMigrated", non_retryable=True
            ) from err


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _request_key(generation: str) -> str:
    parsed = parse_generation_id(generation)
    return parsed.request_key if parsed else generation


def _groupable(files: list[ResultFile]) -> bool:
    # Telegram groups photos with videos, or audio only; anything else goes one by one.
    kinds = {f.media_type for f in files}
    return kinds <= {"image", "video"} or kinds == {"audio"}


def _file_id(message: Message) -> str:
    for media in (message.video, message.audio, message.document, message.animation, message.voice):
        if media is not None:
            return media.file_id
    if message.photo:
        return message.photo[-1].file_id
    return f"message:{message.message_id}"
