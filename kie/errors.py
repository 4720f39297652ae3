"""KIE failures, classified by who can fix them.

KIE puts the outcome of every call in a body ``code`` (CONTRACT "Body codes"). We sort codes into three
kinds, because each kind gets a different treatment upstream:

- ``transient``: retry later (Temporal's retry policy does it; this package never retries).
- ``permanent_user``: this request will never work; tell the user why (``user_reason``) and refund.
- ``operator``: our side is broken (bad key, empty KIE account); the user sees "temporarily
  unavailable", gets a refund, and operators get alerted.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT_USER = "permanent_user"
    OPERATOR = "operator"


class UserReason(StrEnum):
    """Why a generation did not happen, in terms the bot can turn into a message for the user."""

    CONTENT_POLICY = "content_policy"
    INVALID_INPUT = "invalid_input"
    INPUT_FETCH_FAILED = "input_fetch_failed"
    FEATURE_DISABLED = "feature_disabled"
    NOT_FOUND = "not_found"
    GENERATION_FAILED = "generation_failed"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"


# 408 (upstream gave no result in time) is not in KIE's transient list, but as a request error it is
# a timeout: trying again later is the sensible reaction.
_TRANSIENT = frozenset({408, 429, 455, 500, 550})
# 403 is undocumented; a forbidden answer is a credentials problem, like 401.
_OPERATOR = frozenset({401, 402, 403, 433})
# 501/531 are "generation failed" (531: credits refunded): the request ran and will not get better.
_PERMANENT_USER = frozenset({400, 404, 413, 422, 451, 501, 505, 531})

_CONTENT_POLICY_WORDS = (
    "policy",
    "policies",
    "flagged",
    "moderat",
    "sensitive",
    "prohibited",
    "inappropriate",
    "nsfw",
    "violat",
    "copyright",
)


def as_code(value: object) -> int | None:
    """A KIE code as an int: KIE sends 422 and "422" alike. None for anything that is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def classify(code: int | str | None) -> Kind:
    """The kind of a failed KIE request from its body code (or HTTP status); None = network error."""
    number = as_code(code)
    if number is None or number in _TRANSIENT:
        return Kind.TRANSIENT
    if number in _OPERATOR:
        return Kind.OPERATOR
    if number in _PERMANENT_USER:
        return Kind.PERMANENT_USER
    # Unknown 4xx: KIE rejected this very request, so retrying is pointless. Unknown 5xx/other: retry.
    if 400 <= number < 500:
        return Kind.PERMANENT_USER
    return Kind.TRANSIENT


def user_reason(code: int | str | None, message: str | None = None) -> UserReason:
    """What to tell the user about a failed request or a failed task (fail code + fail message).

    Codes like 400 mean both "bad request" and "content policy" at KIE, so the message decides; it also
    catches non-numeric failure codes such as Suno's ``SENSITIVE_WORD_ERROR``.
    """
    number = as_code(code)
    kind = classify(code) if number is not None else None
    if kind is Kind.OPERATOR:
        return UserReason.TEMPORARILY_UNAVAILABLE
    if number == 451:
        return UserReason.INPUT_FETCH_FAILED
    if number == 505:
        return UserReason.FEATURE_DISABLED
    text = f"{code if number is None and code is not None else ''} {message or ''}".lower()
    if any(word in text for word in _CONTENT_POLICY_WORDS):
        return UserReason.CONTENT_POLICY
    if number in (400, 413, 422):
        return UserReason.INVALID_INPUT
    if number == 404:
        return UserReason.NOT_FOUND
    if kind is Kind.TRANSIENT:
        return UserReason.TEMPORARILY_UNAVAILABLE
    return UserReason.GENERATION_FAILED


class KieError(Exception):
    """A KIE call that did not give us what we asked for.

    ``code`` is KIE's body code when there is one, else the HTTP status, else None (network failure).
    ``ambiguous`` means the request may have reached KIE and taken effect anyway (a timeout after
    sending, an OK answer we could not read): retrying a *create* may then start and bill a second task.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        kind: Kind | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.kind = kind if kind is not None else classify(code)
        self.retry_after = retry_after
        self.ambiguous = ambiguous

    @property
    def transient(self) -> bool:
        return self.kind is Kind.TRANSIENT

    @property
    def operator(self) -> bool:
        return self.kind is Kind.OPERATOR

    @property
    def permanent(self) -> bool:
        return self.kind is Kind.PERMANENT_USER

    @property
    def user_reason(self) -> UserReason:
        if self.kind is not Kind.PERMANENT_USER:
            return UserReason.TEMPORARILY_UNAVAILABLE
        return user_reason(self.code, self.message)

    def __str__(self) -> str:
        where = f"KIE {self.code}" if self.code is not None else "KIE"
        http = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        return f"{where}: {self.message}{http} [{self.kind}]"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, http_status={self.http_status!r}, "
            f"kind={self.kind.value!r}, retry_after={self.retry_after!r}, ambiguous={self.ambiguous!r})"
        )


class KieParseError(KieError):
    """KIE answered something we cannot make sense of.

    Transient by default: for a status read, the next poll may well be readable, and a human should see
    the logged message if it never is.
    """

    def __init__(self, message: str, *, http_status: int | None = None, ambiguous: bool = False) -> None:
        super().__init__(message, http_status=http_status, kind=Kind.TRANSIENT, ambiguous=ambiguous)


class KieNetworkError(KieError):
    """The HTTP exchange itself failed (connection refused or reset, timeout, truncated answer)."""

    def __init__(self, message: str, *, ambiguous: bool = True) -> None:
        super().__init__(message, kind=Kind.TRANSIENT, ambiguous=ambiguous)
