"""How the admin panel names users and their payments and generations, typed or on a button."""

from __future__ import annotations

import hashlib

from contracts.buttons import MAX_ID


def parse_id(text: str) -> int | None:
    """A user id typed by the admin: ASCII digits that fit a bigint, else None.
    (``str.isdigit`` also passes "²" and "①", which ``int`` refuses; PostgreSQL refuses ids past 2**63.)"""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        return None
    return int(text)


def ref(value: str) -> str:
    """A short stand-in for an id in callback data (charge ids may not fit in 64 bytes)."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]
