"""Every knob of the KIE simulator, in one pydantic model.

The same model is used at construction (``KieSimulator(KieSimConfig(...))``) and at runtime
(``POST /_sim/config`` with a partial JSON object), so a knob is always validated the same way.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MediaKind = Literal["image", "video", "audio"]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]


class KieSimConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # --- identity -------------------------------------------------------------------------------
    api_key: str | None = None
    """When set, the Bearer token must equal it (or one of ``api_keys``); otherwise any non-empty Bearer
    token is accepted. Each token is an account of its own: its own rate limit, and its tasks are not
    visible to another token (404), as with KIE."""
    api_keys: list[str] = Field(default_factory=list)
    """More accepted tokens besides ``api_key`` (several KIE accounts)."""
    revoked_keys: list[str] = Field(default_factory=list)
    """Tokens answered 401 on every API call from now on (a key revoked in KIE's dashboard)."""
    exhausted_keys: list[str] = Field(default_factory=list)
    """Tokens whose account is out of credits: creates answer 402."""
    webhook_hmac_key: str | None = None
    """When set, callbacks carry ``X-Webhook-Timestamp`` / ``X-Webhook-Signature`` (KIE's opt-in signing)."""
    public_base_url: str | None = None
    """Base of every URL the simulator hands out (results, uploads). Default: the address it listens on."""
    seed: int | None = None
    """RNG seed. None draws from the OS: task ids must not repeat across restarts of a standalone sim."""

    # --- timing ---------------------------------------------------------------------------------
    latency: Seconds = 1.0
    """Time from create to the final state."""
    latency_jitter: Seconds = 0.2
    """Each task's latency is ``latency ± uniform(latency_jitter)`` (never below zero)."""
    slow_latency: Seconds = 20.0
    """Latency of a task whose prompt carries ``[sim:slow]``."""
    record_null_seconds: Seconds = 0.0
    """For this long after create, status queries answer 422 ``recordInfo is null`` (KIE's lag)."""

    # --- outcomes -------------------------------------------------------------------------------
    failure_share: Share = 0.0
    """Share of tasks that end in the family's failure state."""
    fail_codes: list[int] = Field(default_factory=lambda: [500, 422, 501], min_length=1)
    """Failure codes drawn (uniformly) for failing tasks without an explicit ``[sim:fail:CODE]``."""

    # --- create-time faults (rolled in this order; the first hit wins) ----------------------------
    force_create_code: int | None = None
    """Every create answers this body code (e.g. 402, 455) and creates nothing."""
    force_create_msg: str | None = None
    rate_limit: int | None = Field(default=None, ge=1)
    """Creates per ``rate_window`` per account (token), sliding; KIE's real limit is 20 per 10 s. None
    disables the check."""
    rate_window: Seconds = 10.0
    create_429_share: Share = 0.0
    """HTTP 429 + body code 429; nothing is created."""
    create_5xx_share: Share = 0.0
    """HTTP 500 + body code 500; nothing is created."""
    lost_answer_share: Share = 0.0
    """The task IS created, but the client never gets the answer (see ``lost_answer_mode``)."""
    lost_answer_mode: Literal["drop", "504"] = "drop"
    """``drop`` closes the connection mid-request; ``504`` answers a gateway timeout."""
    status_429_share: Share = 0.0
    """Share of status queries answered with HTTP 429."""
    mirror_http_status: bool = False
    """Envelope errors normally ride on HTTP 200 (as KIE mostly does); True makes HTTP = body code.
    401, 429 and the injected 5xx/504 always use the real HTTP status."""

    # --- callbacks ------------------------------------------------------------------------------
    callback_lost_share: Share = 0.0
    """Share of tasks whose callbacks are never sent."""
    callback_duplicate_share: Share = 0.0
    """Share of tasks whose callbacks are each delivered 2-3 times."""
    callback_late_share: Share = 0.0
    """Share of tasks whose callbacks wait ``callback_late_delay`` more seconds (status is final by then)."""
    callback_late_delay: Seconds = 3.0
    suno_out_of_order_share: Share = 0.0
    """Share of Suno tasks whose staged callbacks arrive reversed (complete, first, text) at the end."""
    callback_attempts: int = Field(default=3, ge=1)
    """Deliveries answered non-2xx (or failing) are retried up to this many attempts in total."""
    callback_backoff: Seconds = 1.0
    """Delay before the first retry; doubles after each failed attempt."""
    callback_timeout: Seconds = 15.0
    """KIE wants an answer within 15 s."""

    # --- account and outputs --------------------------------------------------------------------
    credits: int = 100_000
    """Starting balance of ``GET /api/v1/chat/credit``. Patching it at runtime resets the balance."""
    credit_costs: dict[MediaKind, int] = Field(default_factory=lambda: {"image": 4, "video": 60, "audio": 12})
    """Credits a successful task consumes, by output kind. Creates are refused (402) below this."""
    model_outputs: dict[str, MediaKind] = Field(default_factory=dict)
    """Market model id → output kind; overrides the name heuristic in ``media.market_output``."""
    market_record_id: bool = False
    """Some Market models also answer ``data.recordId`` on create; True adds it for all of them."""

    def patched(self, patch: dict[str, Any]) -> KieSimConfig:
        """A validated copy with ``patch`` applied (unknown keys are rejected)."""
        return KieSimConfig.model_validate({**self.model_dump(), **patch})
