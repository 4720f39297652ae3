"""Workflow ids: every process builds and reads them through these functions.

Ids carry only opaque numbers and keys (Telegram user ids, charge ids, random request keys): never a prompt,
a name or anything else personal, because the Temporal UI and logs show them to operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A confirmation's request key (bot.forms.new_request_key makes 16 hex digits; tests and tools use others).
REQUEST_KEY_PATTERN = r"[A-Za-z0-9_-]{1,64}"
_GENERATION = re.compile(rf"^gen-(?P<user>\d{{1,20}})-(?P<key>{REQUEST_KEY_PATTERN})$")

KIE_CREDITS_SCHEDULE_ID = "kie-credits"
RECONCILE_SCHEDULE_ID = "reconcile-stars"


@dataclass(frozen=True)
class GenerationId:
    """``gen-<telegram user id>-<request key>``: the confirmation the user pressed names the workflow, so a
    double tap or a re-delivered update lands on the same one."""

    user_id: int
    request_key: str

    def __str__(self) -> str:
        return f"gen-{self.user_id}-{self.request_key}"


def generation_id(user_id: int, request_key: str) -> str:
    return str(GenerationId(user_id, request_key))


def parse_generation_id(text: str) -> GenerationId | None:
    """The parts of a generation id; None for anything else (forged callback data, a stray URL)."""
    match = _GENERATION.match(text)
    if match is None:
        return None
    return GenerationId(int(match["user"]), match["key"])


def is_generation_of(text: str, user_id: int) -> bool:
    """True when ``text`` is a generation id of this user's."""
    parsed = parse_generation_id(text)
    return parsed is not None and parsed.user_id == user_id


def recipe_id(user_id: int, request_key: str) -> str:
    """A recipe's workflow: ``recipe-<user>-<key>``; its steps are generations ``gen-<user>-<key>_s<n>``."""
    return f"recipe-{user_id}-{request_key}"


def recipe_step_id(user_id: int, request_key: str, step: int) -> str:
    return generation_id(user_id, f"{request_key}_s{step + 1}")


def topup_id(charge_id: str) -> str:
    """One workflow per Telegram payment charge: every copy of ``successful_payment`` lands on it."""
    return f"topup-{charge_id}"


def admin_adjust_id(admin_id: int, confirmation_key: str) -> str:
    return f"admin-adjust-{admin_id}-{confirmation_key}"


def admin_refund_generation_id(generation: str) -> str:
    return f"admin-refund-gen-{generation}"


def admin_refund_topup_id(charge_id: str) -> str:
    return f"admin-refund-topup-{charge_id}"


def model_drift_alert_id(model_id: str, day: str) -> str:
    """One alert a day per model KIE refused as invalid (``day``: YYYY-MM-DD)."""
    return f"alert-model-{re.sub(r'[^A-Za-z0-9._-]', '_', model_id)}-{day}"


def kie_key_alert_id(key_id: str, unix_seconds: int) -> str:
    """An alert that a KIE key left the rotation (the key's fingerprint, never the key)."""
    return f"alert-kie-key-{key_id}-{unix_seconds}"
