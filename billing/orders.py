"""Opaque order references for Stars invoices.

The invoice payload carries ``<package>.<user>.<expiry>.<signature>``: which package, for whom, until when,
signed with our secret so nobody can make one up. It never carries an amount to trust: the amount is always
the package's current price, checked at pre-checkout. Stateless, so the bot needs no write to issue one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

MAX_PAYLOAD_BYTES = 128  # Telegram's limit on invoice payloads


@dataclass(frozen=True)
class OrderReference:
    package_id: str
    user_id: int
    expires_at: int  # Unix seconds


def _sign(secret: str, body: str) -> str:
    digest = hmac.new(f"orders:{secret}".encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_order_reference(secret: str, package_id: str, user_id: int, expires_at: int) -> str:
    body = f"{package_id}.{user_id}.{expires_at}"
    payload = f"{body}.{_sign(secret, body)}"
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    return payload


def read_order_reference(secret: str, payload: str | None) -> OrderReference | None:
    """The order behind a payload, or None when it is not one of ours (or was tampered with)."""
    if not payload or len(payload) > MAX_PAYLOAD_BYTES:
        return None
    parts = payload.split(".")
    if len(parts) != 4:
        return None
    package_id, user, expires, signature = parts
    if not hmac.compare_digest(_sign(secret, f"{package_id}.{user}.{expires}"), signature):
        return None
    try:
        return OrderReference(package_id, int(user), int(expires))
    except ValueError:
        return None
