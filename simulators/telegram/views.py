"""Read-only views of a chat for tests and the web chat: what the user would see right now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .models import JSON, CallbackRecord, SimChat, SimMessage


@dataclass(frozen=True)
class MediaView:
    kind: str
    file_id: str
    file_unique_id: str
    file_size: int
    mime_type: str
    url: str  # the bytes, without a bot token: /_sim/files/<file_id>
    file_name: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0


@dataclass(frozen=True)
class MessageView:
    message_id: int
    sender: str  # "bot" or "user"
    from_user: JSON
    date: int
    text: str | None
    entities: list[JSON]
    caption: str | None
    caption_entities: list[JSON]
    media: list[MediaView]  # one item (a photo shows its largest size)
    reply_markup: JSON | None
    reply_to_message_id: int | None
    media_group_id: str | None
    extra: JSON  # invoice, successful_payment, ...
    edit_count: int
    edit_date: int | None
    deleted: bool

    @property
    def buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass(frozen=True)
class CallbackView:
    id: str
    message_id: int
    data: str
    answered: bool
    answer: JSON | None


@dataclass(frozen=True)
class ChatView:
    id: int
    type: str
    user: JSON | None
    blocked: bool
    reply_keyboard: JSON | None
    messages: list[MessageView] = field(default_factory=list)  # all, deleted ones flagged
    callbacks: list[CallbackView] = field(default_factory=list)

    @property
    def visible(self) -> list[MessageView]:
        return [message for message in self.messages if not message.deleted]

    def from_bot(self) -> list[MessageView]:
        return [message for message in self.visible if message.sender == "bot"]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def message_view(message: SimMessage, base_url: str) -> MessageView:
    media = []
    if message.media:
        stored = message.media[-1]
        media.append(
            MediaView(
                kind=message.media_kind or stored.kind,
                file_id=stored.file_id,
                file_unique_id=stored.file_unique_id,
                file_size=stored.size,
                mime_type=stored.mime_type,
                url=f"{base_url}/_sim/files/{stored.file_id}",
                file_name=stored.file_name,
                width=stored.width,
                height=stored.height,
                duration=stored.duration,
            )
        )
    return MessageView(
        message_id=message.message_id,
        sender=message.sender,
        from_user=message.from_user,
        date=message.date,
        text=message.text,
        entities=message.entities,
        caption=message.caption,
        caption_entities=message.caption_entities,
        media=media,
        reply_markup=message.reply_markup,
        reply_to_message_id=message.reply_to.message_id if message.reply_to else None,
        media_group_id=message.media_group_id,
        extra=message.extra,
        edit_count=message.edit_count,
        edit_date=message.edit_date,
        deleted=message.deleted,
    )


def chat_view(chat: SimChat, callbacks: list[CallbackRecord], base_url: str) -> ChatView:
    return ChatView(
        id=chat.id,
        type=chat.type,
        user=chat.user.to_api() if chat.user else None,
        blocked=bool(chat.user and chat.user.blocked),
        reply_keyboard=chat.reply_keyboard,
        messages=[message_view(message, base_url) for message in chat.messages.values()],
        callbacks=[
            CallbackView(c.id, c.message_id, c.data, c.answered, c.answer)
            for c in callbacks
            if c.chat_id == chat.id
        ],
    )
