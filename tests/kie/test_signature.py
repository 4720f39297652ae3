"""kie.signature against KIE's documented algorithm, recomputed here by hand.

The documented example (fixtures/webhook_verification_example_request.http) was signed with a key nobody
published, so it cannot be verified; it provides the realistic task id, timestamp and header shapes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from kie.callbacks import extract_task_id
from kie.signature import callback_token, kie_signature, verify_callback_token, verify_kie_signature
from tests.kie.support import FIXTURES

KEY = "test-webhook-hmac-key"


def _example() -> tuple[dict[str, str], str]:
    head, body = (FIXTURES / "webhook_verification_example_request.http").read_text().split("\n\n", 1)
    headers = dict(re.findall(r"^([\w-]+): (.+)$", head, flags=re.MULTILINE))
    return headers, body


HEADERS, BODY = _example()
TIMESTAMP = HEADERS["X-Webhook-Timestamp"]
TASK_ID = re.search(r'"taskId": "(\w+)"', BODY).group(1)  # the body has a "..." so is not JSON


def by_hand(key: str, task_id: str, timestamp: str) -> str:
    """The documentation's recipe: base64(HMAC-SHA256(key, taskId + "." + timestamp)), padded."""
    mac = hmac.new(key.encode("utf-8"), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def test_example_shape() -> None:
    assert (TASK_ID, TIMESTAMP) == ("ee9c2715375b7837f8bb51d641ff5863", "1769670760")
    assert len(base64.b64decode(HEADERS["X-Webhook-Signature"], validate=True)) == 32  # a SHA-256 MAC
    # Its body names the task twice (top level and data.task_id); they agree.
    assert extract_task_id({"taskId": TASK_ID, "data": {"task_id": TASK_ID}}) == TASK_ID


def test_signature_matches_the_documented_algorithm() -> None:
    expected = by_hand(KEY, TASK_ID, TIMESTAMP)
    assert kie_signature(KEY, TASK_ID, TIMESTAMP) == expected
    assert kie_signature(KEY, TASK_ID, int(TIMESTAMP)) == expected
    assert expected.endswith("=")  # standard base64 keeps its padding


def test_valid_signature_is_accepted() -> None:
    signature = by_hand(KEY, TASK_ID, TIMESTAMP)
    assert verify_kie_signature(KEY, TASK_ID, TIMESTAMP, signature, now=int(TIMESTAMP) + 10)


def test_documented_signature_does_not_verify_without_its_key() -> None:
    assert not verify_kie_signature(
        KEY, TASK_ID, TIMESTAMP, HEADERS["X-Webhook-Signature"], now=int(TIMESTAMP)
    )


@pytest.mark.parametrize(
    ("key", "task_id", "timestamp", "now"),
    [
        ("wrong-key", TASK_ID, TIMESTAMP, int(TIMESTAMP)),  # wrong key
        (KEY, "another-task", TIMESTAMP, int(TIMESTAMP)),  # signature of another task
        (KEY, TASK_ID, TIMESTAMP, int(TIMESTAMP) + 301),  # stale
        (KEY, TASK_ID, TIMESTAMP, int(TIMESTAMP) - 301),  # from the future
    ],
    ids=["wrong-key", "other-task", "stale", "future"],
)
def test_rejected_signatures(key: str, task_id: str, timestamp: str, now: int) -> None:
    signature = by_hand(KEY, TASK_ID, TIMESTAMP)
    assert not verify_kie_signature(key, task_id, timestamp, signature, now=now)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [(None, "sig"), (TIMESTAMP, None), ("", "sig"), (TIMESTAMP, ""), ("not-a-number", "sig")],
    ids=["no-timestamp", "no-signature", "empty-timestamp", "empty-signature", "bad-timestamp"],
)
def test_missing_or_malformed_headers(timestamp: str | None, signature: str | None) -> None:
    if signature == "sig":
        signature = by_hand(KEY, TASK_ID, TIMESTAMP)
    assert not verify_kie_signature(KEY, TASK_ID, timestamp, signature, now=int(TIMESTAMP))


def test_no_task_id_never_verifies() -> None:
    assert not verify_kie_signature(KEY, "", TIMESTAMP, by_hand(KEY, "", TIMESTAMP), now=int(TIMESTAMP))


def test_callback_token() -> None:
    token = callback_token("secret", "gen-42")
    mac = hmac.new(b"secret", b"gen-42", hashlib.sha256).digest()
    assert token == base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert verify_callback_token("secret", "gen-42", token)
    assert not verify_callback_token("secret", "gen-43", token)
    assert not verify_callback_token("other", "gen-42", token)
    assert not verify_callback_token("secret", "gen-42", None)
