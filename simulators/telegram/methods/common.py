"""Checks shared by the sending and editing methods: chats, text, captions, keyboards, replies."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..errors import bad_request, forbidden
from ..formatting import parse_formatted, utf16_len
from ..models import JSON, SimChat, SimMessage
from .registry import Ctx

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes


def target_chat(ctx: Ctx, name: str = "chat_id") -> SimChat:
    """The chat a call writes to; a user who blocked the bot makes every such call fail with 403."""
    state = ctx.state
    raw = ctx.params.get_str(name, required=True)
    assert raw is not None
    chat: SimChat | None
    if raw.startswith("@"):
        user = state.user_by_username(raw)
        chat = state.chats.get(user.id) if user else None
    else:
        chat_id = ctx.params.get_int(name, required=True)
        assert chat_id is not None
        chat = state.chats.get(chat_id)
        if chat is None and not ctx.engine.config.strict_chats:
            chat = (
                state.private_chat(state.ensure_user(chat_id)) if chat_id > 0 else state.group_chat(chat_id)
            )
    if chat is None:
        raise bad_request(errors.CHAT_NOT_FOUND)
    if chat.user is not None and chat.user.blocked:
        raise forbidden(errors.BOT_BLOCKED)
    return chat


def message_to_edit(ctx: Ctx) -> SimMessage:
    if ctx.params.has("inline_message_id"):
        raise bad_request("inline messages are not supported by the simulator")
    chat = target_chat(ctx)
    message_id = ctx.params.get_int("message_id", required=True)
    assert message_id is not None
    message = ctx.state.find_message(chat.id, message_id)
    if message is None:
        raise bad_request(errors.EDIT_NOT_FOUND)
    if message.sender != "bot":
        raise bad_request("message can't be edited")
    return message


def message_text(ctx: Ctx) -> tuple[str, list[JSON]]:
    raw = ctx.params.get_str("text") or ""
    text, entities = parse_formatted(raw, ctx.params.get_str("parse_mode"), ctx.params.get_json("entities"))
    if not text.strip():
        raise bad_request(errors.TEXT_EMPTY)
    if utf16_len(text) > MAX_TEXT:
        raise bad_request(errors.TEXT_TOO_LONG)
    return text, entities


def message_caption(ctx: Ctx, params: Any = None) -> tuple[str | None, list[JSON]]:
    """Caption from the call, or from an InputMedia dict (media groups)."""
    if params is None:
        raw, mode, entities = (
            ctx.params.get_str("caption"),
            ctx.params.get_str("parse_mode"),
            ctx.params.get_json("caption_entities"),
        )
    else:
        raw, mode, entities = params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
    if not raw:
        return None, []
    caption, parsed = parse_formatted(raw, mode, entities)
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request(errors.CAPTION_TOO_LONG)
    return (caption, parsed) if caption.strip() else (None, [])


def inline_markup(ctx: Ctx, chat: SimChat) -> JSON | None:
    """The inline keyboard to attach; reply keyboards are remembered on the chat instead."""
    markup = ctx.params.get_json("reply_markup")
    if not markup:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return {"inline_keyboard": markup["inline_keyboard"]}
    if "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None
    return None


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")


def reply_target(ctx: Ctx, chat: SimChat) -> SimMessage | None:
    parameters = ctx.params.get_json("reply_parameters") or {}
    message_id = parameters.get("message_id") or ctx.params.get_int("reply_to_message_id")
    if not message_id:
        return None
    target = ctx.state.find_message(int(parameters.get("chat_id") or chat.id), int(message_id))
    if target is None and not parameters.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return target


def send_as_bot(ctx: Ctx, chat: SimChat, **content: Any) -> SimMessage:
    """A new bot message with the call's keyboard and reply target."""
    content.setdefault("reply_markup", inline_markup(ctx, chat))
    content.setdefault("reply_to", reply_target(ctx, chat))
    if ctx.params.get_bool("has_spoiler"):
        content.setdefault("extra", {})["has_spoiler"] = True
    return ctx.state.add_message(chat, "bot", ctx.bot.to_api(), **content)
