"""Logging for every process: plain text for people, JSON lines when LOG_JSON=true.

Records may carry ``workflow_id`` (and other ids) via ``extra=``; the JSON formatter emits them as fields.
Never pass tokens, keys or message texts to a logger. As a second line of defence, every handler installed
by :func:`setup_logging` redacts what looks like a secret (bot tokens, Bearer keys, the ``t=`` token of a
callback URL, credentials in a URL) and every configured secret value, in messages, extra fields and
tracebacks alike.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from genflow.settings import Settings

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
REDACTED = "[redacted]"

# What a secret looks like, whatever its source.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot tokens: <bot id>:<35 characters>, also inside https://api.telegram.org/bot<token>/...
    (re.compile(r"\d+:[A-Za-z0-9_-]{30,}"), REDACTED),
    # Authorization headers and anything else that says Bearer.
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    # Our callback URLs carry an HMAC token: /kie/callback/<id>?t=<token>.
    (re.compile(r"([?&]t=)[^&\s\"'<>]+"), r"\1" + REDACTED),
    # user:password@host in any URL (DATABASE_URL and friends).
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@/\s]+@"), r"\1" + REDACTED + "@"),
)
# Configured secrets shorter than this are not searched for: they would redact ordinary words.
_MIN_SECRET = 6


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET}
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return self(str(value))


class RedactingFilter(logging.Filter):
    """Rewrites a record in place: message (with its args), extra fields, exception and stack text."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and not key.startswith("_"):
                record.__dict__[key] = redact.value(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class TemporalContextFilter(logging.Filter):
    """Lifts ``workflow_id`` (and the activity type) out of the Temporal SDK's own ``extra`` dicts.

    ``workflow.logger`` and ``activity.logger`` attach a ``temporal_workflow`` / ``temporal_activity`` dict;
    log collectors want one flat ``workflow_id`` field on every record about a generation.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for key in ("temporal_workflow", "temporal_activity"):
            info = record.__dict__.get(key)
            if isinstance(info, dict):
                if "workflow_id" in info and not hasattr(record, "workflow_id"):
                    record.workflow_id = info["workflow_id"]
                if "workflow_type" in info and key == "temporal_workflow":
                    record.workflow_type = info["workflow_type"]
                if "activity_type" in info:
                    record.activity = info["activity_type"]
                    record.attempt = info.get("attempt")
                del record.__dict__[key]
        # Forwarded SDK core lines carry their fields in the message already.
        record.__dict__.pop("temporal_log", None)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(
            {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)-7s {process} %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
        if extras:
            text += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return text


def setup_logging(
    process: str,
    *,
    level: str = "INFO",
    json_lines: bool = False,
    secrets: Iterable[str] = (),
    filters: Iterable[logging.Filter] = (),
) -> logging.Handler:
    """One stdout handler on the root logger; returns it (tests and ``filters`` attach there).

    ``secrets`` are literal values never to print (see :func:`secret_values`); ``filters`` run before
    redaction, e.g. worker.py's filter that adds the activity's ``workflow_id``.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter(process))
    for extra_filter in (*filters, TemporalContextFilter()):
        handler.addFilter(extra_filter)
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python warnings go through the same handler (JSON, redacted) instead of raw stderr.
    logging.captureWarnings(True)
    # aiohttp's access log would print callback URLs, which carry our token.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler


def secret_values(settings: Settings) -> list[str]:
    """Every secret value in the configuration: SecretStr fields and passwords inside URLs."""
    from pydantic import SecretStr

    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, list):  # KIE_API_KEYS
            values += [item.get_secret_value() for item in value if isinstance(item, SecretStr)]
        elif isinstance(value, str) and "://" in value:
            password = urlsplit(value).password
            if password:
                values.append(password)
    token = settings.telegram_bot_token
    if token is not None:
        # The part after the colon is the secret; the bot id alone is public.
        values.append(token.get_secret_value().partition(":")[2])
    return [v for v in values if v]


def setup_process_logging(process: str, settings: Settings, **kwargs: Any) -> logging.Handler:
    """:func:`setup_logging` with level, format and secrets taken from the settings."""
    return setup_logging(
        process,
        level=settings.log_level,
        json_lines=settings.log_json,
        secrets=secret_values(settings),
        **kwargs,
    )
