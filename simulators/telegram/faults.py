"""Errors on demand: queued faults, seeded random chaos and (optional) flood control."""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from .config import FloodLimits
from .errors import ApiError

# A proxy in front of the Bot API answering with its own page: not JSON, so clients can't decode it.
_HTML_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Methods counted by flood control: what puts a message into a chat.
_FLOOD_PREFIXES = ("send", "copy", "forward", "edit")


@dataclass
class Fault:
    """One injected answer. ``method``/``chat_id`` None match any call."""

    error_code: int
    description: str | None = None
    retry_after: int | None = None
    method: str | None = None
    chat_id: int | None = None
    times: int = 1
    html: bool = False  # an HTML page (a proxy's) instead of the JSON envelope
    deliver: bool = False  # perform the call anyway, then answer with the error (a "lost" success)
    delay: float = 0.0  # seconds before answering (a slow Telegram; client timeouts)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        known = {key: body[key] for key in cls.__dataclass_fields__ if key in body}
        return cls(**known)

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> ApiError:
        if self.error_code == 429:
            seconds = self.retry_after if self.retry_after is not None else 1
            description = self.description or f"Too Many Requests: retry after {seconds}"
            return ApiError(429, description, {"retry_after": seconds})
        description = self.description or _DEFAULT_DESCRIPTIONS.get(self.error_code, "Internal Server Error")
        if self.error_code == 400 and not description.startswith("Bad Request"):
            description = f"Bad Request: {description}"
        return ApiError(self.error_code, description)

    def response(self) -> web.Response:
        if self.html:
            reason = _DEFAULT_DESCRIPTIONS.get(self.error_code, "Error")
            page = _HTML_PAGE.format(code=self.error_code, reason=reason)
            return web.Response(status=self.error_code, text=page, content_type="text/html")
        error = self.error()
        return web.json_response(error.envelope(), status=error.error_code)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChaosRule:
    share: float  # probability per matching call, 0..1
    fault: Fault


@dataclass
class _Bucket:
    rate: float
    capacity: int
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token; returns 0, or the seconds until one is available (nothing taken)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class FaultInjector:
    seed: int = 0
    flood: FloodLimits | None = None
    queued: list[Fault] = field(default_factory=list)
    chaos: list[ChaosRule] = field(default_factory=list)
    chaos_methods: set[str] | None = None  # lower-case names; None = every method
    _rng: random.Random = field(default_factory=random.Random)
    _buckets: dict[object, _Bucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def queue(self, fault: Fault) -> None:
        self.queued.append(fault)

    def set_chaos(
        self, rules: list[ChaosRule], seed: int | None = None, methods: list[str] | None = None
    ) -> None:
        if sum(rule.share for rule in rules) > 1:
            raise ValueError("chaos shares add up to more than 1")
        self.chaos = rules
        self.chaos_methods = {m.lower() for m in methods} if methods else None
        self._rng.seed(self.seed if seed is None else seed)

    def clear(self) -> None:
        self.queued.clear()
        self.chaos.clear()
        self.chaos_methods = None
        self._buckets.clear()
        self._rng.seed(self.seed)

    def pick(self, method: str, chat_id: int | None) -> tuple[Fault, str] | None:
        """The fault to answer this call with, and where it came from; None to answer normally."""
        for fault in self.queued:
            if fault.matches(method, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self.queued.remove(fault)
                return fault, "queued"
        if self.chaos and (self.chaos_methods is None or method.lower() in self.chaos_methods):
            draw = self._rng.random()  # one draw per call keeps a seeded run reproducible
            for rule in self.chaos:
                if draw < rule.share:
                    return rule.fault, "chaos"
                draw -= rule.share
        if (
            self.flood is not None
            and method.lower().startswith(_FLOOD_PREFIXES)
            and method != "sendChatAction"
        ):
            wait = self._flood_wait(chat_id)
            if wait > 0:
                return Fault(429, retry_after=max(1, math.ceil(wait))), "flood"
        return None

    def _flood_wait(self, chat_id: int | None) -> float:
        assert self.flood is not None
        now = time.monotonic()
        limits = self.flood
        total = self._bucket("all", limits.global_rate, limits.global_burst, now)
        chat = self._bucket(("chat", chat_id), limits.per_chat_rate, limits.per_chat_burst, now)
        wait = chat.take(now)
        if wait > 0:
            return wait
        wait = total.take(now)
        if wait > 0:
            chat.tokens += 1  # give the chat's token back: the message wasn't sent
        return wait

    def _bucket(self, key: object, rate: float, burst: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, burst, float(burst), now)
        return bucket

    def describe(self) -> dict[str, Any]:
        return {
            "queued": [fault.to_json() for fault in self.queued],
            "chaos": [{"share": rule.share, **rule.fault.to_json()} for rule in self.chaos],
            "chaos_methods": sorted(self.chaos_methods) if self.chaos_methods else None,
            "flood": asdict(self.flood) if self.flood else None,
        }
