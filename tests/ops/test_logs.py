"""Structured logs: JSON lines, secrets redacted wherever they hide, workflow ids on activity records."""

from __future__ import annotations

import dataclasses
import io
import json
import logging

import pytest
from pydantic import SecretStr
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from genflow.logs import (
    REDACTED,
    JsonFormatter,
    RedactingFilter,
    Redactor,
    TemporalContextFilter,
    secret_values,
    setup_logging,
)
from genflow.settings import Settings
from worker import ActivityContextFilter

BOT_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def capture():
    """setup_logging as a process does it, writing JSON lines into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def install(**kwargs) -> io.StringIO:
        buffer = io.StringIO()
        handler = setup_logging("test", json_lines=True, level="DEBUG", **kwargs)
        handler.setStream(buffer)
        return buffer

    yield install
    root.handlers[:], level = saved
    root.setLevel(level)
    logging.captureWarnings(False)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"POST https://api.telegram.org/bot{BOT_TOKEN}/sendMessage failed", BOT_TOKEN),
        ("headers {'Authorization': 'Bearer sk-live-1234567890abcdef'}", "sk-live-1234567890abcdef"),
        ("http://h/kie/callback/gen-1-abc?t=Zm9vYmFyYmF6cXV4&x=1", "Zm9vYmFyYmF6cXV4"),
        ("connect postgresql://genflow:s3cr3t-pw@db:5432/genflow", "s3cr3t-pw"),
    ],
)
def test_patterns_are_redacted(text: str, secret: str):
    redacted = Redactor()(text)
    assert secret not in redacted and REDACTED in redacted


def test_configured_secrets_are_redacted_even_without_a_pattern():
    redact = Redactor(["hmac-key-without-shape", "abc"])  # too short to search for: left alone
    assert redact("key=hmac-key-without-shape, abc") == f"key={REDACTED}, abc"


def test_message_args_extras_and_tracebacks_are_redacted(capture):
    buffer = capture(secrets=["callback-secret-value"])
    log = logging.getLogger("t")
    log.info(
        "token %s",
        BOT_TOKEN,
        extra={"url": "https://x/cb?t=tok123456", "nested": {"k": "callback-secret-value"}},
    )
    try:
        raise RuntimeError("failed with callback-secret-value and Bearer abcdef123456")
    except RuntimeError:
        log.exception("boom")
    raw = buffer.getvalue()
    for secret in (BOT_TOKEN, "tok123456", "callback-secret-value", "abcdef123456"):
        assert secret not in raw
    first, second = lines(buffer)
    assert first["msg"] == f"token {REDACTED}" and first["nested"] == {"k": REDACTED}
    assert "RuntimeError" in second["exc"] and REDACTED in second["exc"]


def test_secret_values_come_from_every_secret_setting():
    settings = Settings(
        _env_file=None,
        database_url="postgresql://genflow:db-password-1@db/genflow",
        kie_api_key=SecretStr("kie-key-123456"),
        kie_api_keys="kie-second-key-1,kie-third-key-1",
        callback_secret=SecretStr("callback-secret-1"),
        telegram_bot_token=SecretStr(BOT_TOKEN),
        kie_webhook_hmac_key=SecretStr("hmac-key-123456"),
        telegram_webhook_secret=SecretStr("tg-webhook-secret"),
    )
    values = set(secret_values(settings))
    assert {"db-password-1", "kie-key-123456", "callback-secret-1", BOT_TOKEN, "hmac-key-123456"} <= values
    assert "tg-webhook-secret" in values and BOT_TOKEN.partition(":")[2] in values
    assert {"kie-second-key-1", "kie-third-key-1"} <= values  # every one of KIE_API_KEYS


def test_temporal_sdk_extras_become_a_flat_workflow_id():
    record = logging.makeLogRecord(
        {"msg": "x", "temporal_workflow": {"workflow_id": "gen-1-a", "workflow_type": "GenerationWorkflow"}}
    )
    TemporalContextFilter().filter(record)
    RedactingFilter(Redactor()).filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["workflow_id"] == "gen-1-a" and "temporal_workflow" not in entry


async def test_records_logged_inside_an_activity_carry_its_workflow_id(capture):
    buffer = capture(filters=[ActivityContextFilter()])

    @activity.defn
    async def noisy() -> None:
        logging.getLogger("activities.something").info("inside")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="gen-42-k", activity_type="noisy")
    await env.run(noisy)
    logging.getLogger("elsewhere").info("outside")
    inside, outside = lines(buffer)
    assert inside["workflow_id"] == "gen-42-k" and inside["activity"] == "noisy"
    assert "workflow_id" not in outside
