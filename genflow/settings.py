"""Configuration from the environment and an optional ``.env`` file (pydantic-settings).

Every setting is an environment variable of the same name in upper case, e.g. ``DATABASE_URL``.
Empty values count as unset, so ``KIE_API_KEY=`` in ``.env`` means "use the simulator".
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    # PostgreSQL. Unset under `make run`: the launcher starts an embedded server (pgserver) in .data/.
    database_url: str | None = None
    database_pool_min: int = Field(default=1, ge=0)
    database_pool_max: int = Field(default=10, ge=1)

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    # Temporal Cloud or a TLS cluster: an API key implies TLS; or mTLS with a client certificate and key.
    temporal_tls: bool = False
    temporal_api_key: SecretStr | None = None
    temporal_tls_cert_path: Path | None = None
    temporal_tls_key_path: Path | None = None
    # KIE submits run on "<queue>-kie", rate-limited server-side to the account limit.
    temporal_task_queue: str = "genflow"
    temporal_ui_url: AnyHttpUrl = AnyHttpUrl("http://localhost:8233")

    # KIE. No key under `make run`: the launcher starts the KIE simulator and points KIE_BASE_URL at it.
    # KIE_API_KEYS=k1,k2,k3: several KIE accounts, each with its own rate limit; submits are spread over
    # them (capacity grows with every key). KIE_API_KEY is one more key, for single-account set-ups.
    kie_api_key: SecretStr | None = None
    kie_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    kie_base_url: AnyHttpUrl = AnyHttpUrl("https://api.kie.ai")
    kie_upload_base_url: AnyHttpUrl = AnyHttpUrl("https://kieai.redpandaai.co")
    kie_webhook_hmac_key: SecretStr | None = None
    kie_webhook_window_seconds: int = Field(default=300, ge=1)
    # KIE's limit per account (key): N new tasks in any window of this many seconds; more are refused (429).
    kie_rate_limit_tasks: int = Field(default=20, ge=1)
    kie_rate_limit_period_seconds: float = Field(default=10.0, gt=0)
    # Added to the window when counting a key's submits: a request reaches KIE a little after we count it.
    kie_rate_limit_margin_seconds: float = Field(default=0.25, ge=0)

    # The fair submit queue (docs/design.md, "Queueing"): users share KIE's capacity equally; a user who
    # has ever paid gets this weight (2 = twice the share of a free user while both wait; nobody starves).
    queue_paid_weight: float = Field(default=2.0, ge=0.001, le=1000)
    # The confirmation card warns "about N minutes in queue" when the estimated wait is longer than this.
    queue_warn_seconds: float = Field(default=60.0, ge=0)
    # Queued status messages are edited at most this often each, and all of them together at most
    # queue_status_edits_per_second (a share of Telegram's ~30 messages a second for the whole bot).
    queue_status_min_interval_seconds: float = Field(default=5.0, ge=1)
    queue_status_edits_per_second: float = Field(default=10.0, gt=0)

    # Webhooks (KIE callbacks)
    public_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8080")
    callback_secret: SecretStr | None = None
    webhooks_host: str = "127.0.0.1"
    webhooks_port: int = Field(default=8080, ge=1, le=65535)
    webhooks_max_body_bytes: int = Field(default=1_000_000, ge=1024)

    # Telegram. No token under `make run`: the bot talks to the Bot API simulator.
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: AnyHttpUrl | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Webhook mode for the bot when set (e.g. https://bot.example.com); long polling otherwise.
    telegram_webhook_url: AnyHttpUrl | None = None
    telegram_webhook_secret: SecretStr | None = None
    bot_host: str = "127.0.0.1"
    bot_port: int = Field(default=8082, ge=1, le=65535)  # webhook mode and /metrics
    # Per-user limits
    bot_max_in_progress: int = Field(default=3, ge=1)
    bot_flood_rate_per_second: float = Field(default=1.0, gt=0)
    bot_flood_burst: int = Field(default=5, ge=1)
    # Local web chat (served by the Telegram simulator under `make run`)
    webchat_port: int = Field(default=8088, ge=1, le=65535)

    # Payments (packages and the referral bonus live in billing/packages.toml)
    payments_order_ttl_seconds: int = Field(default=3600, ge=60)  # how long an invoice can be paid
    reconcile_interval_minutes: int = Field(default=10, ge=1)  # the Stars reconciliation schedule

    # Operations
    worker_metrics_port: int | None = Field(default=9464, ge=1, le=65535)
    # Workflows the worker keeps in memory (Temporal's sticky cache, least recently used out first); an
    # evicted one is replayed from its history when its next task (a callback, a poll) comes.
    worker_max_cached_workflows: int = Field(default=500, ge=0)
    telegram_worker_metrics_port: int | None = Field(default=9465, ge=1, le=65535)
    # Telegram lets a bot send about 30 messages a second in all; enforced server-side on the Telegram queue.
    # 25, not 30: the server's rate limiter lets short bursts through (measured: 34 in one second at 30).
    telegram_rate_limit_per_second: float = Field(default=25.0, gt=0)
    kie_credits_alert_threshold: int = Field(default=1000, ge=0)

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # ADMIN_IDS=1,2,3 reads better in an env file than a JSON list.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("kie_api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def kie_keys(self) -> list[SecretStr]:
        """Every configured KIE key, KIE_API_KEY first, without repeats."""
        keys: list[SecretStr] = []
        seen: set[str] = set()
        for key in ([self.kie_api_key] if self.kie_api_key else []) + self.kie_api_keys:
            if key.get_secret_value() not in seen:
                seen.add(key.get_secret_value())
                keys.append(key)
        return keys

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def require(self, *names: str) -> None:
        """Fail like invalid configuration when a setting a process cannot run without is missing."""
        missing = [name for name in names if getattr(self, name) in (None, [])]
        if missing:
            name = "KIE_API_KEY or KIE_API_KEYS" if missing[0] == "kie_keys" else missing[0].upper()
            exit_invalid(f"{name}: required by this process but not set")


def exit_invalid(message: str) -> None:
    print(f"genflow: invalid configuration: {message}", file=sys.stderr)
    raise SystemExit(2)


def describe_error(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"][:1]).upper() or "CONFIGURATION"
    value = first.get("input")
    # Echo the bad value to help, except for anything that may be a secret.
    sensitive = isinstance(value, dict) or any(word in name for word in ("KEY", "SECRET", "TOKEN", "URL"))
    shown = "" if sensitive else f" (got {value!r})"
    return f"{name}: {first['msg']}{shown}"


@lru_cache
def get_settings() -> Settings:
    """Settings for a process entry point: invalid configuration prints one line and exits with 2."""
    try:
        return Settings()
    except ValidationError as error:
        exit_invalid(describe_error(error))
        raise  # unreachable; keeps type checkers happy
