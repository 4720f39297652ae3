"""What users do: write, upload, press inline buttons, pay, block the bot. Each becomes an update."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .filetypes import image_size, sniff_mime
from .formatting import detect_entities
from .models import JSON, MEDIA_KINDS, CallbackRecord, MediaKind, PreCheckout, SimMessage, SimUser, StoredFile
from .state import SimState


class ActionError(Exception):
    """A user action that can't happen (unknown message, no such button...): the test is wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str = "file"
    kind: MediaKind | None = None  # guessed from the content when None


def send_message(
    state: SimState,
    user_id: int,
    text: str | None = None,
    *,
    upload: Upload | None = None,
    file_id: str | None = None,
    kind: MediaKind | None = None,
    caption: str | None = None,
    reply_to_message_id: int | None = None,
    profile: dict[str, Any] | None = None,
) -> JSON:
    """The user writes to the bot (text, a new file or a known file_id); returns the update."""
    user = state.ensure_user(user_id, **(profile or {}))
    user.blocked = False  # writing to a bot means having unblocked it
    chat = state.private_chat(user)
    content: dict[str, Any] = {}
    if upload is not None or file_id is not None:
        stored = _user_file(state, upload, file_id, kind)
        content.update(media_kind=stored.kind, media=stored.siblings if stored.kind == "photo" else [stored])
        if caption:
            content.update(caption=caption, caption_entities=detect_entities(caption))
    elif text:
        content.update(text=text, entities=detect_entities(text))
    else:
        raise ActionError("a message needs text or a file")
    if reply_to_message_id is not None:
        content["reply_to"] = _message(state, user, reply_to_message_id)
    message = state.add_message(chat, "user", user.to_api(), **content)
    return state.push_update("message", message.to_api()).to_api()


def _user_file(
    state: SimState, upload: Upload | None, file_id: str | None, kind: MediaKind | None
) -> StoredFile:
    if upload is None:
        stored = state.files.get(file_id or "")
        if stored is None:
            raise ActionError(f"unknown file_id {file_id!r}", 404)
        return stored
    mime = sniff_mime(upload.data, upload.filename)
    kind = upload.kind or kind or _guess_kind(mime)
    if kind not in MEDIA_KINDS:
        raise ActionError(f"unknown media kind {kind!r}")
    if kind == "photo":
        size = image_size(upload.data)
        if size is None:
            raise ActionError("a photo must be a PNG, JPEG, GIF, WebP or BMP image")
        return state.store_file(upload.data, "photo", mime, width=size[0], height=size[1])
    return state.store_file(upload.data, kind, mime, file_name=upload.filename)


def _guess_kind(mime: str) -> MediaKind:
    if mime.startswith("image/") and mime != "image/gif":
        return "photo"
    if mime.startswith("video/"):
        return "video"
    if mime == "audio/ogg":
        return "voice"
    if mime.startswith("audio/"):
        return "audio"
    return "animation" if mime == "image/gif" else "document"


def _message(state: SimState, user: SimUser, message_id: int) -> SimMessage:
    message = state.find_message(user.id, message_id)
    if message is None:
        raise ActionError(f"message {message_id} not found in chat {user.id}", 404)
    return message


def press_button(state: SimState, user_id: int, message_id: int, data: str, *, force: bool = False) -> JSON:
    """The user taps an inline button with this callback_data; returns the callback_query update."""
    user = state.users.get(user_id)
    if user is None:
        raise ActionError(f"unknown user {user_id}", 404)
    message = _message(state, user, message_id)
    buttons = [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
    if not force and not any(b.get("callback_data") == data for b in buttons):
        raise ActionError(f"message {message_id} has no button with callback_data {data!r}")
    record = CallbackRecord(
        id=state.numeric_id(),
        user_id=user.id,
        chat_id=message.chat.id,
        message_id=message_id,
        data=data,
        created=time.monotonic(),
    )
    state.callbacks[record.id] = record
    payload = {
        "id": record.id,
        "from": user.to_api(),
        "message": message.to_api(),
        "chat_instance": message.chat.chat_instance,
        "data": data,
    }
    return state.push_update("callback_query", payload).to_api()


def pay(
    state: SimState,
    user_id: int,
    *,
    message_id: int | None = None,
    invoice_link: str | None = None,
    duplicates: int = 0,
) -> JSON:
    """The user taps "Pay" on an invoice message (or link); returns the pre_checkout_query update.

    Once the bot answers ok, a successful_payment message follows (``duplicates`` extra copies).
    """
    user = state.users.get(user_id)
    if user is None:
        raise ActionError(f"unknown user {user_id}", 404)
    if invoice_link is not None:
        invoice = state.invoices.get(f"link:{invoice_link.rsplit('$sim', 1)[-1]}")
    else:
        _message(state, user, message_id or 0)
        invoice = state.invoices.get(f"message:{user.id}:{message_id}")
    if invoice is None:
        raise ActionError("no invoice to pay there", 404)
    query = PreCheckout(state.numeric_id(), user, invoice, time.monotonic(), duplicates=max(0, duplicates))
    state.pre_checkouts[query.id] = query
    payload = {
        "id": query.id,
        "from": user.to_api(),
        "currency": invoice["currency"],
        "total_amount": invoice["total_amount"],
        "invoice_payload": invoice["payload"],
    }
    return state.push_update("pre_checkout_query", payload).to_api()


def set_blocked(state: SimState, user_id: int, blocked: bool) -> None:
    state.ensure_user(user_id).blocked = blocked


# Update types a bot answers with a method that needs the query registered here first.
_ANSWERABLE = ("callback_query", "pre_checkout_query")


def raw_update(state: SimState, kind: str, payload: JSON, *, force: bool = False) -> JSON:
    """Any update as given (for fuzzing a bot): ``kind`` is the update's field, ``payload`` its object.

    Filled in when missing: a message's ``message_id`` (a fresh one of the chat, not kept in the
    transcript), ``date`` and private ``chat`` from ``from``; a query's ``id``. Callback and pre-checkout
    queries are registered, so the bot can answer them (a pre-checkout query answered ok is charged like
    a real one). ``force`` delivers it whatever the bot's allowed_updates say.
    """
    if not kind or not isinstance(payload, dict):
        raise ActionError("an update needs a type and an object")
    payload = dict(payload)
    sender = payload.get("from")
    user = None
    if isinstance(sender, dict) and isinstance(sender.get("id"), int) and not sender.get("is_bot"):
        user = state.ensure_user(sender["id"])
    if kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        chat = None
        if "chat" not in payload and user is not None:
            chat = state.private_chat(user)
            payload["chat"] = chat.to_api()
        elif isinstance(payload.get("chat"), dict):
            chat = state.chats.get(payload["chat"].get("id"))
        if "message_id" not in payload:
            if chat is not None:
                chat.last_message_id += 1
            payload["message_id"] = chat.last_message_id if chat is not None else state.rng.randint(1, 10**6)
        payload.setdefault("date", int(time.time()))
    if kind in _ANSWERABLE or kind in ("inline_query", "shipping_query"):
        payload.setdefault("id", state.numeric_id())
    if kind == "callback_query" and user is not None:
        message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
        record = CallbackRecord(
            id=str(payload["id"]),
            user_id=user.id,
            chat_id=(message.get("chat") or {}).get("id", user.id),
            message_id=message.get("message_id", 0),
            data=str(payload.get("data", "")),
            created=time.monotonic(),
        )
        state.callbacks[record.id] = record
    if kind == "pre_checkout_query" and user is not None:
        invoice = {
            "title": "raw",
            "description": "raw",
            "payload": str(payload.get("invoice_payload", "")),
            "currency": str(payload.get("currency", "")),
            "total_amount": payload.get("total_amount", 0),
        }
        state.pre_checkouts[str(payload["id"])] = PreCheckout(
            str(payload["id"]), user, invoice, time.monotonic()
        )
    return state.push_update(kind, payload, forced=force).to_api()
