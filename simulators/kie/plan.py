"""What will happen to a request, decided once, up front, from the knobs, the RNG and magic markers.

Deciding everything at create time keeps a seeded run deterministic: the RNG is consumed in request
order, never from timers racing each other.

Magic markers may appear anywhere in the create body (usually the prompt) and beat the knobs:

==========================  ==================================================================
``[sim:fail]``              the task ends in failure (code drawn from ``fail_codes``)
``[sim:fail:451]``          the task ends in failure with that code
``[sim:success]``           the task succeeds whatever ``failure_share`` says
``[sim:slow]``              the task takes ``slow_latency`` seconds
``[sim:nocallback]``        no callback is ever sent for the task
``[sim:dupcallback]``       every callback is delivered 2-3 times
``[sim:latecallback]``      callbacks wait ``callback_late_delay`` extra seconds
``[sim:lostanswer]``        the task is created but the create answer is lost
``[sim:create:402]``        the create answers that body code and creates nothing
==========================  ==================================================================
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from simulators.kie.config import KieSimConfig

_MARKER = re.compile(r"\[sim:([a-z]+)(?::(\d{3}))?\]", re.IGNORECASE)

FAIL_MESSAGES = {
    400: "Your prompt was flagged by Website as violating content policies.",
    408: "Upstream did not return a result within 10 minutes.",
    422: "Invalid prompt: prompt contains prohibited content",
    451: "Failed to fetch the input image.",
    500: "Internal server error",
    501: "Generation failed, please try again later.",
    531: "Generation failed. Your credits have been refunded.",
}
CREATE_MESSAGES = {
    400: "Bad request",
    401: "You do not have access permissions",
    402: "The current credits are insufficient. Please top up.",
    404: "Not found",
    422: "Validation error",
    429: "Rate limit exceeded",
    433: "Sub-key usage limit exceeded",
    455: "Service is under maintenance, please try again later.",
    500: "Server error, please try again later.",
    505: "This feature is disabled.",
    550: "The queue is full, please try again later.",
}


def markers(body: Any) -> dict[str, int | None]:
    """``{"fail": 451, "slow": None, ...}`` for the markers found anywhere in a JSON body."""
    text = json.dumps(body, ensure_ascii=False)
    return {name.lower(): int(arg) if arg else None for name, arg in _MARKER.findall(text)}


@dataclass(frozen=True)
class CreateFault:
    """A create that is refused: nothing is stored."""

    code: int
    msg: str
    http_status: int


def create_fault(
    config: KieSimConfig, rng: random.Random, marks: dict[str, int | None], *, over_rate_limit: bool
) -> CreateFault | None:
    if "create" in marks:
        code = marks["create"] or 500
        return CreateFault(code, CREATE_MESSAGES.get(code, "Error"), 429 if code == 429 else 200)
    if config.force_create_code is not None:
        code = config.force_create_code
        msg = config.force_create_msg or CREATE_MESSAGES.get(code, "Error")
        return CreateFault(code, msg, 429 if code == 429 else 200)
    # Roll every share on every request so the RNG sequence does not depend on which knobs are on.
    hit_429, hit_5xx = rng.random() < config.create_429_share, rng.random() < config.create_5xx_share
    if over_rate_limit or hit_429:
        return CreateFault(429, CREATE_MESSAGES[429], 429)
    if hit_5xx:
        return CreateFault(500, CREATE_MESSAGES[500], 500)
    return None


@dataclass
class Plan:
    """The fate of one created task."""

    latency: float
    fail_code: int | None  # None: the task succeeds
    fail_msg: str
    lose_answer: bool
    callback_lost: bool
    callback_copies: int
    callback_delay: float
    out_of_order: bool

    @property
    def fails(self) -> bool:
        return self.fail_code is not None


def plan_task(config: KieSimConfig, rng: random.Random, marks: dict[str, int | None]) -> Plan:
    jitter = rng.uniform(-config.latency_jitter, config.latency_jitter)
    latency = config.slow_latency if "slow" in marks else max(0.0, config.latency + jitter)

    fail_roll, fail_pick = rng.random() < config.failure_share, rng.choice(config.fail_codes)
    fail_code: int | None = None
    if "fail" in marks:
        fail_code = marks["fail"] or fail_pick
    elif fail_roll and "success" not in marks:
        fail_code = fail_pick

    lose_answer = rng.random() < config.lost_answer_share
    lost = rng.random() < config.callback_lost_share
    duplicated, copies = rng.random() < config.callback_duplicate_share, rng.choice((2, 3))
    late = rng.random() < config.callback_late_share
    out_of_order = rng.random() < config.suno_out_of_order_share
    return Plan(
        latency=latency,
        fail_code=fail_code,
        fail_msg=FAIL_MESSAGES.get(fail_code, "Generation failed") if fail_code else "",
        lose_answer=lose_answer or "lostanswer" in marks,
        callback_lost=lost or "nocallback" in marks,
        callback_copies=copies if duplicated or "dupcallback" in marks else 1,
        callback_delay=config.callback_late_delay if late or "latecallback" in marks else 0.0,
        out_of_order=out_of_order,
    )
