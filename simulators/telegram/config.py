"""Settings of one simulator instance."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class FloodLimits:
    """Token buckets approximating Telegram's flood control (off unless configured)."""

    per_chat_rate: float = 1.0  # sustained messages per second into one chat
    per_chat_burst: int = 3  # short bursts tolerated
    global_rate: float = 30.0  # messages per second across all chats
    global_burst: int = 30


@dataclass(frozen=True)
class SimulatorConfig:
    # The bot's own token: getMe answers with the names below for it. With accept_any_token any
    # well-formed `<digits>:<chars>` token works too (a stranger token gets a generated username).
    token: str | None = None
    accept_any_token: bool = True
    bot_username: str = "genflow_local_bot"
    bot_first_name: str = "Genflow (local)"
    # Strict mode: sending to a chat no user has opened answers "chat not found", like Telegram.
    # Lenient (default): the chat (and its user) is created on the fly.
    strict_chats: bool = False
    # One seed drives ids, chaos faults and update ids: the same run gives the same transcript.
    seed: int = 0
    first_update_id: int | None = None
    # Stored file bytes are kept in memory; the oldest are evicted past this total.
    max_file_memory: int = 512 * MB
    url_fetch_timeout: float = 10.0
    pre_checkout_timeout: float = 10.0  # answerPreCheckoutQuery must come within this
    webhook_timeout: float = 10.0
    webhook_retry_delays: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0)
    flood: FloodLimits | None = None
    # Base URL used in transcripts for media links (defaults to the listening URL).
    public_url: str | None = None
    # The local web chat: always under /chat on the simulator's port; also on a port of its own when
    # webchat_port is set (0: any free port). The header links to the Temporal UI (None: no link).
    webchat_port: int | None = None
    webchat_host: str | None = None  # defaults to the simulator's host
    temporal_ui_url: str | None = "http://localhost:8233"
