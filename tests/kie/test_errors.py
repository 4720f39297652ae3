"""Classification of every documented KIE code (CONTRACT "Body codes")."""

from __future__ import annotations

import pickle

import pytest

from kie.errors import KieError, KieNetworkError, KieParseError, Kind, UserReason, classify, user_reason

T, P, OP = Kind.TRANSIENT, Kind.PERMANENT_USER, Kind.OPERATOR


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, P),  # bad request / content policy
        (401, OP),  # bad key
        (402, OP),  # KIE account out of credits
        (404, P),
        (408, T),  # upstream gave no result in time
        (422, P),  # validation ("recordInfo is null" on a status read is special-cased by the adapters)
        (429, T),
        (433, OP),  # sub-key limit
        (451, P),  # could not fetch an input image
        (455, T),  # maintenance
        (500, T),
        (501, P),  # generation failed
        (505, P),  # feature disabled
        (531, P),  # failed, credits refunded
        (550, T),  # queue full
        (None, T),  # network error
        (503, T),  # unknown 5xx
        (418, P),  # unknown 4xx
        (403, OP),
        ("429", T),  # codes arrive as strings too
        ("402", OP),
        ("SENSITIVE_WORD_ERROR", T),  # not a number: nothing to classify, retrying is the safe default
    ],
)
def test_classify(code: int | str | None, kind: Kind) -> None:
    assert classify(code) is kind


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        (400, "Your prompt was flagged by Website as violating content policies.", UserReason.CONTENT_POLICY),
        (400, "Lyrics contained copyrighted material", UserReason.CONTENT_POLICY),
        (400, "aspect_ratio must be one of 1:1, 16:9", UserReason.INVALID_INPUT),
        ("422", "Invalid prompt: prompt contains prohibited content", UserReason.CONTENT_POLICY),
        (422, "duration must be a string", UserReason.INVALID_INPUT),
        (451, "Failed to download image", UserReason.INPUT_FETCH_FAILED),
        (505, "This feature is disabled", UserReason.FEATURE_DISABLED),
        (404, "Task not found", UserReason.NOT_FOUND),
        (401, "You do not have access permissions", UserReason.TEMPORARILY_UNAVAILABLE),
        (402, "Insufficient credits", UserReason.TEMPORARILY_UNAVAILABLE),
        (433, None, UserReason.TEMPORARILY_UNAVAILABLE),
        (500, "Internal server error", UserReason.TEMPORARILY_UNAVAILABLE),
        (501, "Generation failed", UserReason.GENERATION_FAILED),
        (531, "Credits have been refunded", UserReason.GENERATION_FAILED),
        ("SENSITIVE_WORD_ERROR", None, UserReason.CONTENT_POLICY),
        ("GENERATE_AUDIO_FAILED", None, UserReason.GENERATION_FAILED),
        (None, None, UserReason.GENERATION_FAILED),
    ],
)
def test_user_reason(code: int | str | None, message: str | None, reason: UserReason) -> None:
    assert user_reason(code, message) is reason


def test_error_properties() -> None:
    operator = KieError("You do not have access permissions", code=401, http_status=401)
    assert (operator.kind, operator.operator, operator.transient, operator.permanent) == (
        OP,
        True,
        False,
        False,
    )
    assert operator.user_reason is UserReason.TEMPORARILY_UNAVAILABLE

    policy = KieError("content flagged", code=400)
    assert (policy.kind, policy.user_reason) == (P, UserReason.CONTENT_POLICY)

    limited = KieError("Rate limit exceeded", code=429, http_status=429, retry_after=7.0)
    assert (limited.transient, limited.retry_after) == (True, 7.0)
    assert str(limited) == "KIE 429: Rate limit exceeded (HTTP 429) [transient]"


def test_explicit_kind_overrides_the_code() -> None:
    assert KieError("recordInfo is null", code=422, kind=T).user_reason is UserReason.TEMPORARILY_UNAVAILABLE


def test_parse_and_network_errors_are_transient() -> None:
    assert KieParseError("garbage").kind is T
    network = KieNetworkError("reset")
    assert (network.kind, network.code, network.ambiguous) == (T, None, True)


def test_errors_survive_pickling() -> None:
    error = KieError("Rate limit exceeded", code=429, http_status=429, retry_after=3.0, ambiguous=True)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.code, copy.kind, copy.retry_after, copy.ambiguous) == (
        KieError,
        429,
        T,
        3.0,
        True,
    )
    assert type(pickle.loads(pickle.dumps(KieNetworkError("x", ambiguous=False)))) is KieNetworkError
