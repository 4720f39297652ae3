"""The simulator's state objects and how each renders as a Bot API object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
MediaKind = Literal["photo", "video", "audio", "voice", "document", "animation"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("photo", "video", "audio", "voice", "document", "animation")


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str
    first_name: str

    def to_api(self) -> JSON:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}


@dataclass
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    blocked: bool = False

    def to_api(self) -> JSON:
        return _drop_none(
            {
                "id": self.id,
                "is_bot": False,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": self.language_code,
            }
        )


@dataclass
class SimChat:
    id: int
    type: Literal["private", "group"]
    user: SimUser | None = None  # the other side of a private chat
    title: str | None = None
    chat_instance: str = ""
    messages: dict[int, SimMessage] = field(default_factory=dict)  # in sending order
    last_message_id: int = 0
    reply_keyboard: JSON | None = None  # the custom keyboard the user currently sees

    def to_api(self) -> JSON:
        if self.user is None:
            return {"id": self.id, "title": self.title or f"Group {self.id}", "type": self.type}
        user = self.user
        return _drop_none(
            {
                "id": self.id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "username": user.username,
                "type": "private",
            }
        )


@dataclass
class StoredFile:
    """One file_id. A photo is several of these (one per size) sharing the same bytes."""

    file_id: str
    file_unique_id: str
    kind: MediaKind
    blob_key: str  # sha256 of the bytes in the blob store
    size: int
    mime_type: str
    file_path: str
    file_name: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0
    performer: str | None = None
    title: str | None = None
    siblings: list[StoredFile] = field(default_factory=list, repr=False)  # all sizes of a photo

    def to_api(self, kind: MediaKind | None = None) -> JSON:
        """The file as a PhotoSize/Video/Audio/... object (kind overrides, e.g. an animation's document)."""
        kind = kind or self.kind
        base: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if kind == "photo":
            return {**base, "file_size": self.size, "width": self.width, "height": self.height}
        extra: JSON = {"file_name": self.file_name, "mime_type": self.mime_type, "file_size": self.size}
        if kind in ("video", "animation"):
            extra = {"width": self.width, "height": self.height, "duration": self.duration, **extra}
        elif kind == "audio":
            extra = {"duration": self.duration, "performer": self.performer, "title": self.title, **extra}
        elif kind == "voice":
            extra = {"duration": self.duration, "mime_type": self.mime_type, "file_size": self.size}
        return {**base, **_drop_none(extra)}


@dataclass
class SimMessage:
    chat: SimChat
    message_id: int
    sender: Literal["bot", "user"]
    from_user: JSON
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    media_kind: MediaKind | None = None
    media: list[StoredFile] = field(default_factory=list)  # photo sizes, or the one file
    reply_markup: JSON | None = None  # inline keyboards only: other keyboards belong to the chat
    reply_to: SimMessage | None = None
    media_group_id: str | None = None
    extra: JSON = field(default_factory=dict)  # invoice, successful_payment, has_spoiler, ...
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False

    @property
    def is_service(self) -> bool:
        return "successful_payment" in self.extra or "refunded_payment" in self.extra

    def to_api(self, *, with_reply: bool = True) -> JSON:
        out: JSON = {
            "message_id": self.message_id,
            "from": self.from_user,
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.media_group_id is not None:
            out["media_group_id"] = self.media_group_id
        if with_reply and self.reply_to is not None:
            out["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.media_kind == "photo":
            out["photo"] = [size.to_api() for size in self.media]
        elif self.media_kind is not None:
            out[self.media_kind] = self.media[0].to_api(self.media_kind)
            if self.media_kind == "animation":  # Telegram also sets `document` for backward compatibility
                out["document"] = self.media[0].to_api("document")
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        out.update(self.extra)
        if self.reply_markup is not None:
            out["reply_markup"] = self.reply_markup
        return out


UpdateType = Literal["message", "edited_message", "callback_query", "pre_checkout_query"]
# What Telegram sends when allowed_updates is empty/unset: all but these.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True)
class PendingUpdate:
    update_id: int
    type: str
    payload: JSON
    # Delivered whatever the bot's allowed_updates say (the control API's raw updates, for fuzzing): a bot
    # must survive any update type, including those it did not ask for or does not know.
    forced: bool = False

    def to_api(self) -> JSON:
        return {"update_id": self.update_id, self.type: self.payload}


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: JSON | None = None  # text, show_alert, url as answered


@dataclass
class PreCheckout:
    id: str
    user: SimUser
    invoice: JSON  # title, payload, currency, total_amount
    created: float
    duplicates: int = 0  # extra copies of the successful_payment update to deliver
    status: Literal["pending", "approved", "declined", "expired"] = "pending"
    error_message: str | None = None


@dataclass
class StarPayment:
    charge_id: str
    user: SimUser
    amount: int
    payload: str
    date: int
    refunded_date: int | None = None


@dataclass
class Webhook:
    url: str
    token: str  # the bot that set it: replies in the webhook answer run as this bot
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self, pending: int) -> JSON:
        return _drop_none(
            {
                "url": self.url,
                "has_custom_certificate": False,
                "pending_update_count": pending,
                "max_connections": self.max_connections,
                "allowed_updates": self.allowed_updates,
                "last_error_date": self.last_error_date,
                "last_error_message": self.last_error_message,
            }
        )


@dataclass(frozen=True)
class CallRecord:
    """One Bot API call as the simulator answered it."""

    seq: int
    at: float
    method: str
    params: JSON
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    fault: str | None = None  # "queued", "chaos" or "flood" when the answer was injected
    via: Literal["http", "webhook_reply"] = "http"
    duration_ms: float = 0.0


@dataclass(frozen=True)
class ChatEvent:
    """Something a chat window would redraw: a message appeared/changed/vanished, an action, a toast."""

    seq: int
    chat_id: int
    kind: Literal[
        "message", "edit", "delete", "chat_action", "callback_answer", "pre_checkout_answer", "reset"
    ]
    message_id: int | None = None
    data: JSON = field(default_factory=dict)


def _drop_none(values: JSON) -> JSON:
    return {key: value for key, value in values.items() if value is not None}
