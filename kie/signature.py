"""KIE webhook signatures and our own callback-URL tokens.

KIE signs ``taskId + "." + timestamp`` with the account's webhookHmacKey (HMAC-SHA256, standard base64).
The body is not signed: a valid signature only says KIE reported *something* for that task.
The URL token is ours: an HMAC of the workflow id, so a callback URL cannot be guessed or re-targeted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def kie_signature(hmac_key: str, task_id: str, timestamp: int | str) -> str:
    """The value KIE puts in ``X-Webhook-Signature``."""
    message = f"{task_id}.{timestamp}".encode()
    digest = hmac.new(hmac_key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_kie_signature(
    hmac_key: str,
    task_id: str,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float,
    window_seconds: int = 300,
) -> bool:
    """True when the headers carry a fresh, correct signature for ``task_id``."""
    if not task_id or not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    # KIE documents no replay window; we accept a few minutes either way for clock skew.
    if abs(now - ts) > window_seconds:
        return False
    expected = kie_signature(hmac_key, task_id, ts)
    return hmac.compare_digest(expected.encode(), signature.encode())


def callback_token(secret: str, workflow_id: str) -> str:
    """URL token proving the callback URL was issued by us for exactly this workflow."""
    digest = hmac.new(secret.encode(), workflow_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_callback_token(secret: str, workflow_id: str, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(callback_token(secret, workflow_id).encode(), token.encode())
