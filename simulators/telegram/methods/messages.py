"""Text messages: send, edit, delete, copy, and answering inline-button presses."""

from __future__ import annotations

import time
from typing import Any

from .. import errors
from ..errors import bad_request
from ..models import JSON
from .common import (
    inline_markup,
    message_caption,
    message_text,
    message_to_edit,
    send_as_bot,
    target_chat,
)
from .registry import Ctx, api_method


@api_method("sendMessage")
async def send_message(ctx: Ctx) -> JSON:
    chat = target_chat(ctx)
    text, entities = message_text(ctx)
    return send_as_bot(ctx, chat, text=text, entities=entities).to_api()


@api_method("editMessageText")
async def edit_message_text(ctx: Ctx) -> JSON:
    message = message_to_edit(ctx)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = message_text(ctx)
    # No reply_markup in an edit removes the keyboard, as in Telegram.
    markup = inline_markup(ctx, message.chat)
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(errors.NOT_MODIFIED)
    message.text, message.entities, message.reply_markup = text, entities, markup
    ctx.state.touch_edited(message)
    return message.to_api()


@api_method("editMessageCaption")
async def edit_message_caption(ctx: Ctx) -> JSON:
    message = message_to_edit(ctx)
    if message.media_kind is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = message_caption(ctx)
    markup = inline_markup(ctx, message.chat)
    if (caption, entities, markup) == (message.caption, message.caption_entities, message.reply_markup):
        raise bad_request(errors.NOT_MODIFIED)
    message.caption, message.caption_entities, message.reply_markup = caption, entities, markup
    ctx.state.touch_edited(message)
    return message.to_api()


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx) -> JSON:
    message = message_to_edit(ctx)
    markup = inline_markup(ctx, message.chat)
    if markup == message.reply_markup:
        raise bad_request(errors.NOT_MODIFIED)
    message.reply_markup = markup
    ctx.state.touch_edited(message)
    return message.to_api()


@api_method("deleteMessage")
async def delete_message(ctx: Ctx) -> bool:
    chat = target_chat(ctx)
    message_id = ctx.params.get_int("message_id", required=True)
    message = ctx.state.find_message(chat.id, message_id or 0)
    if message is None:
        raise bad_request(errors.DELETE_NOT_FOUND)
    ctx.state.delete_message(message)
    return True


@api_method("deleteMessages")
async def delete_messages(ctx: Ctx) -> bool:
    chat = target_chat(ctx)
    ids = ctx.params.get_json("message_ids") or []
    if not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    for message_id in ids:  # missing ones are skipped silently, as Telegram does
        message = ctx.state.find_message(chat.id, int(message_id))
        if message is not None:
            ctx.state.delete_message(message)
    return True


@api_method("copyMessage")
async def copy_message(ctx: Ctx) -> JSON:
    chat = target_chat(ctx)
    from_chat = target_chat(ctx, "from_chat_id")
    source = ctx.state.find_message(from_chat.id, ctx.params.get_int("message_id", required=True) or 0)
    if source is None:
        raise bad_request("message to copy not found")
    if source.is_service or "invoice" in source.extra:
        raise bad_request("message can't be copied")
    content: dict[str, Any] = {
        "text": source.text,
        "entities": source.entities,
        "media_kind": source.media_kind,
        "media": source.media,
        "caption": source.caption,
        "caption_entities": source.caption_entities,
    }
    if ctx.params.has("caption"):
        content["caption"], content["caption_entities"] = message_caption(ctx)
    copied = send_as_bot(ctx, chat, **content)
    return {"message_id": copied.message_id}


@api_method("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx) -> bool:
    query_id = ctx.params.get_str("callback_query_id", required=True) or ""
    record = ctx.state.callbacks.get(query_id)
    if record is None or record.answered:
        raise bad_request(errors.QUERY_TOO_OLD)
    answer = {
        "text": ctx.params.get_str("text"),
        "show_alert": ctx.params.get_bool("show_alert"),
        "url": ctx.params.get_str("url"),
        "after_ms": round((time.monotonic() - record.created) * 1000),  # how long the spinner showed
    }
    record.answered, record.answer = True, answer
    ctx.state.emit(record.chat_id, "callback_answer", record.message_id, callback_query_id=query_id, **answer)
    return True
