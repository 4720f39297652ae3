"""Everything the simulated Telegram remembers, in memory. Only the event loop thread touches it."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import random
import string
import time
from collections import OrderedDict, deque
from contextlib import suppress
from typing import Any

from .config import SimulatorConfig
from .filetypes import photo_variants
from .models import (
    JSON,
    NOT_DEFAULT_UPDATES,
    CallbackRecord,
    CallRecord,
    ChatEvent,
    MediaKind,
    PendingUpdate,
    PreCheckout,
    SimChat,
    SimMessage,
    SimUser,
    StarPayment,
    StoredFile,
    Webhook,
)

MAX_PENDING_UPDATES = 10_000  # Telegram keeps unconfirmed updates for 24 h; we keep this many
MAX_CALLS = 20_000
MAX_EVENTS = 20_000

# Real file_ids start with a type-dependent header; keeping it makes ids look familiar in logs.
_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAA", "video": "BAACAgIAAxkBAA", "audio": "CQACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA", "document": "BQACAgIAAxkBAA", "animation": "CgACAgIAAxkBAA",
}  # fmt: skip
_FOLDER = {
    "photo": "photos", "video": "videos", "audio": "music", "voice": "voice",
    "document": "documents", "animation": "animations",
}  # fmt: skip
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class Notifier:
    """Wakes every long-poll (getUpdates, chat events, webhook worker) when something changes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closed = False

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Return at the next change, or after ``seconds``."""
        if self.closed or seconds <= 0:
            return
        event = self._event
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    async def wait_until(self, ready: Any, seconds: float) -> bool:
        """Wait until ``ready()`` is true or ``seconds`` pass; returns the final ``ready()``."""
        deadline = time.monotonic() + seconds
        while not ready() and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.wait(remaining)
        return bool(ready())


class SimState:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.notifier = Notifier()
        self.events: deque[ChatEvent] = deque(maxlen=MAX_EVENTS)
        self.event_seq = 0  # survives reset so a web chat's cursor never goes backwards
        self.poll_generation = 0  # survives reset too: a getUpdates from before must not look current
        self.clear(config.seed)

    def clear(self, seed: int | None = None) -> None:
        self.rng = random.Random(self.config.seed if seed is None else seed)
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.blobs: OrderedDict[str, bytes] = OrderedDict()
        self.blob_bytes = 0
        self.updates: list[PendingUpdate] = []
        first = self.config.first_update_id
        self.next_update_id = first if first is not None else self.rng.randint(100_000_000, 800_000_000)
        self.allowed_updates: list[str] | None = None
        self.poll_generation += 1
        self.webhook: Webhook | None = None
        self.callbacks: dict[str, CallbackRecord] = {}
        self.pre_checkouts: dict[str, PreCheckout] = {}
        self.payments: dict[str, StarPayment] = {}
        self.star_transactions: list[JSON] = []
        self.invoices: dict[str, JSON] = {}  # "message:<chat>:<id>" or "link:<slug>" -> invoice
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.calls: deque[CallRecord] = deque(maxlen=MAX_CALLS)
        self.call_seq = 0
        self._file_counter = 0
        if self.event_seq:
            self.emit(0, "reset")
        self.notifier.notify()

    # ---- ids ---------------------------------------------------------------------------------------

    def token(self, length: int, alphabet: str = _ID_ALPHABET) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def numeric_id(self) -> str:
        return str(self.rng.randint(10**17, 10**18 - 1))

    # ---- users and chats ---------------------------------------------------------------------------

    def ensure_user(self, user_id: int, **profile: Any) -> SimUser:
        """The user (created on first sight); profile: first_name, last_name, username, language_code."""
        user = self.users.get(user_id)
        if user is None:
            user = SimUser(id=user_id, first_name=f"User {user_id}", username=f"user{user_id}")
            self.users[user_id] = user
        for key in ("first_name", "last_name", "username", "language_code"):
            if profile.get(key) is not None:
                setattr(user, key, profile[key])
        self.private_chat(user)
        return user

    def private_chat(self, user: SimUser) -> SimChat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = SimChat(id=user.id, type="private", user=user, chat_instance=f"-{self.numeric_id()}")
            self.chats[user.id] = chat
        return chat

    def group_chat(self, chat_id: int) -> SimChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = SimChat(
                id=chat_id, type="group", title=f"Group {chat_id}", chat_instance=self.numeric_id()
            )
            self.chats[chat_id] = chat
        return chat

    def user_by_username(self, username: str) -> SimUser | None:
        name = username.removeprefix("@").lower()
        return next((u for u in self.users.values() if (u.username or "").lower() == name), None)

    # ---- messages ----------------------------------------------------------------------------------

    def add_message(self, chat: SimChat, sender: str, from_user: JSON, **content: Any) -> SimMessage:
        chat.last_message_id += 1
        message = SimMessage(
            chat=chat,
            message_id=chat.last_message_id,
            sender=sender,  # type: ignore[arg-type]
            from_user=from_user,
            date=int(time.time()),
            **content,
        )
        chat.messages[message.message_id] = message
        self.emit(chat.id, "message", message.message_id)
        return message

    def find_message(self, chat_id: int, message_id: int) -> SimMessage | None:
        chat = self.chats.get(chat_id)
        message = chat.messages.get(message_id) if chat else None
        return None if message is None or message.deleted else message

    def touch_edited(self, message: SimMessage) -> None:
        message.edit_count += 1
        message.edit_date = int(time.time())
        self.emit(message.chat.id, "edit", message.message_id)

    def delete_message(self, message: SimMessage) -> None:
        message.deleted = True
        self.emit(message.chat.id, "delete", message.message_id)

    def emit(self, chat_id: int, kind: str, message_id: int | None = None, **data: Any) -> None:
        self.event_seq += 1
        self.events.append(ChatEvent(self.event_seq, chat_id, kind, message_id, data))  # type: ignore[arg-type]
        self.notifier.notify()

    # ---- updates -----------------------------------------------------------------------------------

    def push_update(self, kind: str, payload: JSON, *, forced: bool = False) -> PendingUpdate:
        update = PendingUpdate(self.next_update_id, kind, payload, forced)
        self.next_update_id += 1
        self.updates.append(update)
        del self.updates[:-MAX_PENDING_UPDATES]
        self.notifier.notify()
        return update

    def confirm_updates(self, offset: int | None) -> None:
        """getUpdates(offset=N) confirms everything below N; a negative N keeps only the last -N."""
        if offset is None:
            return
        if offset < 0:
            del self.updates[:offset]
        else:
            self.updates = [u for u in self.updates if u.update_id >= offset]

    def deliverable_updates(self, allowed: list[str] | None, limit: int) -> list[PendingUpdate]:
        """Pending updates of allowed types; updates of other types are dropped, as Telegram does (forced
        ones excepted)."""
        wanted = set(allowed) if allowed else None
        self.updates = [
            u
            for u in self.updates
            if u.forced or (u.type in wanted if wanted else u.type not in NOT_DEFAULT_UPDATES)
        ]
        return self.updates[:limit]

    # ---- files -------------------------------------------------------------------------------------

    def store_file(self, data: bytes, kind: MediaKind, mime_type: str, **meta: Any) -> StoredFile:
        """Keep the bytes and mint a file_id (a photo gets one per size); returns the largest one."""
        blob_key = hashlib.sha256(data).hexdigest()
        self._keep_blob(blob_key, data)
        self._file_counter += 1
        extension = mimetypes.guess_extension(mime_type) or ".bin"
        file_path = f"{_FOLDER[kind]}/file_{self._file_counter}{extension}"
        if kind != "photo":
            stored = self._new_file(kind, blob_key, len(data), mime_type, file_path, "", **meta)
            stored.siblings = [stored]
            return stored
        sizes = photo_variants(meta.pop("width"), meta.pop("height"))
        siblings = [
            self._new_file(
                kind, blob_key, len(data), mime_type, file_path, f"{w}x{h}", width=w, height=h, **meta
            )
            for w, h in sizes
        ]
        for stored in siblings:
            stored.siblings = siblings
        return siblings[-1]

    def _new_file(self, kind: MediaKind, blob_key: str, size: int, mime: str, path: str, variant: str,
                  **meta: Any) -> StoredFile:  # fmt: skip
        # The unique id depends on the content, like Telegram's: the same bytes keep the same one.
        unique = hashlib.sha256(f"{blob_key}:{kind}:{variant}".encode()).hexdigest()[:16]
        stored = StoredFile(
            file_id=_FILE_ID_PREFIX[kind] + self.token(52),
            file_unique_id=f"AQAD{unique}",
            kind=kind,
            blob_key=blob_key,
            size=size,
            mime_type=mime,
            file_path=path,
            **meta,
        )
        self.files[stored.file_id] = stored
        return stored

    def _keep_blob(self, key: str, data: bytes) -> None:
        if key in self.blobs:
            self.blobs.move_to_end(key)
            return
        self.blobs[key] = data
        self.blob_bytes += len(data)
        # Over the cap: forget the oldest bytes. Their file_ids still re-send; downloads then fail.
        while self.blob_bytes > self.config.max_file_memory and len(self.blobs) > 1:
            _, evicted = self.blobs.popitem(last=False)
            self.blob_bytes -= len(evicted)

    def file_bytes(self, stored: StoredFile) -> bytes | None:
        return self.blobs.get(stored.blob_key)

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == file_path), None)

    # ---- calls -------------------------------------------------------------------------------------

    def record_call(self, **fields: Any) -> CallRecord:
        self.call_seq += 1
        record = CallRecord(seq=self.call_seq, at=time.time(), **fields)
        self.calls.append(record)
        return record
