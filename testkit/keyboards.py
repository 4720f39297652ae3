"""Reading the inline keyboards of the Telegram simulator's messages, through the bot's own button factories
(``contracts.buttons``)."""

from __future__ import annotations

import contextlib
import json
from typing import Any, TypeVar

from aiogram.filters.callback_data import CallbackData

Data = TypeVar("Data", bound=CallbackData)


def buttons(message: dict[str, Any]) -> list[str]:
    """The callback data of a simulator message's inline keyboard (its markup may be a JSON string)."""
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        with contextlib.suppress(ValueError):
            markup = json.loads(markup)
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [b["callback_data"] for row in rows for b in row if isinstance(b, dict) and "callback_data" in b]


def unpacked(data: str, kind: type[Data]) -> Data | None:
    """The callback data as a ``kind``, or None when it is another button's (or no button at all)."""
    try:
        return kind.unpack(data)
    except (TypeError, ValueError):
        return None


def matching(data: str, kind: type[Data], **fields: Any) -> Data | None:
    """The callback data as a ``kind`` when it is one with these field values, else None."""
    found = unpacked(data, kind)
    return found if found is not None and all(getattr(found, k) == v for k, v in fields.items()) else None


def matches(data: str, kind: type[CallbackData], **fields: Any) -> bool:
    """True when ``data`` is a ``kind`` with these field values."""
    return matching(data, kind, **fields) is not None
