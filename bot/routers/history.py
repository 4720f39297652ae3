"""History: the last generations with status, price and date; re-send a result by its Telegram file id
(no KIE involved) or start again with the same inputs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import keyboards, views
from bot.keyboards import button, home_row, markup, menu_button
from bot.services import Services
from contracts.buttons import GenerationAction, GenerationOp, Menu, MenuTarget
from contracts.ids import generation_id
from db import GenerationRecord

log = logging.getLogger(__name__)
SHOWN = 8


def router() -> Router:
    r = Router(name="history")
    r.message.register(history, Command("history"))
    r.callback_query.register(history, Menu.filter(F.to == MenuTarget.HISTORY))
    r.callback_query.register(favourites, Menu.filter(F.to == MenuTarget.FAVOURITES))
    r.callback_query.register(resend, GenerationAction.filter(F.op == GenerationOp.RESEND))
    return r


def _status(record: GenerationRecord) -> str:
    if record.status == "succeeded":
        return _("✅ done")
    if record.status == "failed":
        return _("❌ failed")
    if record.status == "cancelled":
        return _("✖️ cancelled")
    if record.status == "rejected":
        return _("🚫 not started")
    return _("⏳ in progress")


def _file_ids(record: GenerationRecord) -> list[str]:
    ids = record.telegram_file_ids
    return [str(i) for i in ids] if isinstance(ids, list) else []


async def history(event: Message | CallbackQuery, services: Services, lang: str) -> None:
    assert event.from_user is not None
    records = await services.generations.recent_for_user(event.from_user.id, limit=SHOWN)
    if not records:
        rows = [[menu_button(_("🎨 Create"), MenuTarget.CREATE)], home_row()]
        await views.show(event, (_("No generations yet."), markup(rows)))
        return
    lines = [_("Your last generations:")]
    rows = []
    for number, record in enumerate(records, start=1):
        spec = services.catalog.models.get(record.model_id)
        title = spec.title_for(lang) if spec else record.model_id
        price = views.credits(record.price, lang)
        marks = ("⭐ " if record.favourite else "") + ("↳ " if record.parent_id else "")
        marks += "🧪 " if record.chain_id else ""
        when = f"{record.created_at:%d.%m %H:%M}"
        lines.append(f"{number}. {marks}{title} · {_status(record)} · {price} · {when}")
        row = []
        if record.status == "succeeded" and _file_ids(record):
            resend = GenerationAction(op=GenerationOp.RESEND, key=record.request_key)
            row.append(button(_("📤 {number}: send again").format(number=number), resend))
        if record.finished:
            again = GenerationAction(op=GenerationOp.AGAIN, key=record.request_key)
            row.append(button(_("🔁 {number}: again").format(number=number), again))
        rows.append(row)
    if any(r.parent_id or r.chain_id for r in records):
        lines += ["", _("↳ follows up an earlier result · 🧪 a recipe's step")]
    rows.append([menu_button(_("⭐ Favourites"), MenuTarget.FAVOURITES), *home_row()])
    await views.show(event, ("\n".join(lines), markup(rows)))


async def favourites(callback: CallbackQuery, services: Services, lang: str) -> None:
    """The results the user kept, each ready to be sent again."""
    records = await services.generations.favourites(callback.from_user.id, limit=SHOWN)
    if not records:
        text = _("No favourites yet: tap ⭐ under a result to keep it here.")
        await views.show(
            callback, (text, markup([[menu_button(_("🗂 History"), MenuTarget.HISTORY)], home_row()]))
        )
        return
    lines = [_("⭐ Your favourites:")]
    rows = []
    for number, record in enumerate(records, start=1):
        spec = services.catalog.models.get(record.model_id)
        title = spec.title_for(lang) if spec else record.model_id
        lines.append(f"{number}. {title} · {record.created_at:%d.%m %H:%M}")
        resend = GenerationAction(op=GenerationOp.RESEND, key=record.request_key)
        rows.append([button(_("📤 {number}: send again").format(number=number), resend)])
    rows.append([menu_button(_("🗂 History"), MenuTarget.HISTORY), *home_row()])
    await views.show(callback, ("\n".join(lines), markup(rows)))


async def resend(
    callback: CallbackQuery,
    callback_data: GenerationAction,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    record = await services.generations.get(generation_id(callback.from_user.id, callback_data.key))
    if record is None or record.user_id != callback.from_user.id or not _file_ids(record):
        callback_answer.text = _("There is nothing to send again for this generation.")
        return
    files = (record.result or {}).get("files", []) if isinstance(record.result, dict) else []
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    assert callback.bot is not None
    for index, file_id in enumerate(_file_ids(record)):
        file = files[index] if index < len(files) and isinstance(files[index], dict) else {}
        await _send(callback.bot, chat_id, file_id, file.get("media_type", "unknown"), file.get("url"))
    callback_answer.text = _("Sent again.")


async def _send(bot: Bot, chat_id: int, file_id: str, media_type: str, url: str | None) -> Message:
    """By the stored file id and the result's media type; a file delivered as a link gets its link again."""
    if file_id.startswith(("link:", "message:")):
        text = _("Your file: {url}").format(url=url or "—")
        return await bot.send_message(chat_id, text, reply_markup=keyboards.home())
    senders: dict[str, Callable[..., Awaitable[Message]]] = {
        "image": bot.send_photo,
        "video": bot.send_video,
        "audio": bot.send_audio,
    }
    send = senders.get(media_type)
    if send is not None:
        try:
            return await send(chat_id, file_id, reply_markup=keyboards.home())
        except TelegramBadRequest:  # the result went out as a document after all
            log.info("re-send as %s refused, sending as a document", media_type)
    return await bot.send_document(chat_id, file_id, reply_markup=keyboards.home())
