"""Raw updates in the Bot API's shapes: media with made-up file ids, the bot blocked or restarted, and the
check that aiogram can read each one."""

from __future__ import annotations

import random
import time
from typing import Any

from testkit.bot_fuzz.plan import BOT_USERNAME


def media(kind: str, mime: str | None, size: int | None, rng: random.Random) -> dict[str, Any]:
    file_id = f"FUZZ{kind}{rng.getrandbits(64):016x}"
    base: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id[-12:]}
    if size is not None:
        base["file_size"] = size
    if kind == "photo":
        return {"photo": [{**base, "width": 90, "height": 60}, {**base, "width": 4000, "height": 3000}]}
    if kind == "sticker":
        return {
            "sticker": {
                **base,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "🦊",
            }
        }
    if kind == "video_note":
        return {"video_note": {**base, "length": 240, "duration": 3}}
    if mime is not None:
        base["mime_type"] = mime
    if kind in ("video", "animation"):
        return {kind: {**base, "width": 640, "height": 480, "duration": 5}}
    if kind in ("audio", "voice"):
        return {kind: {**base, "duration": 5}}
    return {kind: {**base, "file_name": "file.bin"}}


def must_parse(kind: str, payload: dict[str, Any]) -> None:
    """Raw updates are the Bot API's shapes: one aiogram cannot read stops its polling for good
    (getUpdates fails on the whole batch, the update is never confirmed): the fuzzer's mistake, not the bot's.
    """
    from aiogram.types import Update

    probe = dict(payload)
    if kind.endswith(("message", "channel_post")):
        probe = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, **probe}
    if kind in ("callback_query", "pre_checkout_query", "inline_query", "shipping_query"):
        probe.setdefault("id", "1")
    Update.model_validate({"update_id": 1, kind: probe})


def chat_member(user: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    bot = {"id": 1, "is_bot": True, "first_name": "Genflow", "username": BOT_USERNAME}
    return {
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "from": user,
        "date": int(time.time()),
        "old_chat_member": {"status": old, "user": bot, **({"until_date": 0} if old == "kicked" else {})},
        "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
    }
