"""What a chaos run does (:class:`ChaosPlan`: the generations, the faults, the disruptions, the payments) and
what it saw (:class:`Run`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.models import GenerationResult
from contracts.recipes import RecipeResult

# (model, inputs, weight): mostly one-image generations, plus Suno (staged callbacks, two files, reorderable),
# text-to-speech (audio) and a video: deliveries go through sendPhoto, sendMediaGroup, sendAudio, sendVideo.
MIX: list[tuple[str, dict[str, Any], int]] = [
    ("google/nano-banana", {"prompt": "a red fox in the snow"}, 55),
    ("seedream/4.5-text-to-image", {"prompt": "a glass city", "aspect_ratio": "1:1", "quality": "basic"}, 15),
    (
        "suno/generate-music",
        {"prompt": "a calm piano piece", "customMode": False, "instrumental": True, "model": "V4_5"},
        15,
    ),
    ("elevenlabs/text-to-speech-turbo-2-5", {"text": "Hello there", "voice": "Rachel"}, 10),
    (
        "sora-2-text-to-video",
        {"prompt": "waves on a beach", "aspect_ratio": "landscape", "n_frames": "10"},
        5,
    ),
]


@dataclass
class ChaosPlan:
    generations: int = 300
    users: int = 50
    credits_per_user: int = 2_000
    start_seconds: float = 30.0  # generations start spread over this long
    worker_kills_at: list[float] = field(default_factory=lambda: [6.0, 18.0, 33.0])
    kill_when_quiet: bool = False  # reduced runs: kill once everything is waiting or closed
    postgres_restart_at: float | None = 25.0
    postgres_down_seconds: float = 3.0
    seed: int = 20_261_122
    settle_timeout: float = 420.0
    # Stars top-ups through the real bot (needs the bot process), each update delivered 1 + duplicates times.
    payments: int = 0
    payment_duplicates: int = 2
    payment_package: str = "s50"
    # A surge: this many more generations started at once at ``surge_at``; KIE revokes the second of the
    # stack's keys (CHAOS_KIE_KEYS) at ``revoke_key_at``.
    surge: int = 100
    # Chains: recipes (text -> image -> video) beside the single generations, some with a failing step.
    recipes: int = 20
    recipe_fail_share: float = 0.3
    surge_at: float = 10.0
    revoke_key_at: float | None = 12.0
    kie: dict[str, Any] = field(
        default_factory=lambda: {
            # Shares are rolled independently, 429 first: 0.222 of the 90% left is 20% 5xx overall.
            "create_429_share": 0.10,
            "create_5xx_share": 0.222,
            "lost_answer_share": 0.05,
            "failure_share": 0.15,
            "callback_duplicate_share": 0.30,
            "callback_lost_share": 0.20,
            "callback_late_share": 0.10,
            "callback_late_delay": 4.0,
            "suno_out_of_order_share": 0.5,
            "latency": 1.5,
            "latency_jitter": 1.0,
        }
    )
    telegram_rules: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"share": 0.10, "error_code": 429, "retry_after": 1},
            {"share": 0.05, "error_code": 502},
        ]
    )
    telegram_methods: list[str] | None = None  # the Bot API methods the rules hit; None: every one
    # Replicas (more than 1): that many of every process behind nginx; a kill then SIGKILLs one replica of
    # each kind (taking turns), the Temporal server restarts on its database file at ``temporal_restarts_at``,
    # and the link between nginx and bot-1 drops for ``link_cut_seconds`` at ``link_cuts_at``.
    replicas: int = 1
    temporal_restarts_at: list[float] = field(default_factory=list)
    temporal_down_seconds: float = 3.0
    link_cuts_at: list[float] = field(default_factory=list)
    link_cut_seconds: float = 5.0
    # Users who walk the bot's form (menu → model → prompt → Generate) again and again during the run: their
    # updates cross replicas, kills and cuts; each walk must find its form where it left it.
    form_users: int = 0


# A replicated run's processes (``Harness.start(replicas=...)``), behind nginx where they listen.
REPLICA_PROCESSES = ("worker", "telegram-worker", "webhooks", "bot")
# Replicated runs leave the bot's own answers alone (the form walkers and payments judge those); deliveries
# still meet Telegram's faults.
MEDIA_METHODS = ["sendPhoto", "sendMediaGroup", "sendAudio", "sendVideo", "sendDocument"]
# The form walkers tap faster than a person: the bot's flood limit would answer them "slow down".
WALKER_ENV = {"BOT_FLOOD_RATE_PER_SECOND": "200", "BOT_FLOOD_BURST": "1000"}

# The stack's KIE accounts (Harness extra_env KIE_API_KEYS): the second is revoked mid-surge.
CHAOS_KIE_KEYS = ("chaos-kie-account-a", "chaos-kie-account-b")
CHAOS_ENV = {"KIE_API_KEY": "", "KIE_API_KEYS": ",".join(CHAOS_KIE_KEYS)}


@dataclass
class Run:
    ids: list[str] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    blocked_user: int = 0
    began: float = 0.0
    kills: list[float] = field(default_factory=list)
    postgres_down: list[tuple[float, float]] = field(default_factory=list)
    temporal_down: list[tuple[float, float]] = field(default_factory=list)
    results: dict[str, GenerationResult | None] = field(default_factory=dict)
    plan: ChaosPlan = field(default_factory=ChaosPlan)
    payers: list[int] = field(default_factory=list)
    payment_attempts: int = 0
    payment_failures: list[str] = field(default_factory=list)
    payment_steps: dict[str, int] = field(default_factory=dict)  # how each attempt ended
    surge_ids: list[str] = field(default_factory=list)
    key_revoked_at: float | None = None
    replica_kills: dict[str, int] = field(default_factory=dict)  # per kind of process
    link_cuts: list[float] = field(default_factory=list)
    cut_updates: int = 0  # sent by a user while the link was cut
    walks: list[dict[str, Any]] = field(default_factory=list)  # testkit.chaos.forms
    statuses: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)  # start to close, seconds
    settled_after: float = 0.0
    recipe_ids: list[str] = field(default_factory=list)
    recipe_steps: dict[str, list[str]] = field(default_factory=dict)  # recipe -> its steps' generation ids
    recipe_results: dict[str, RecipeResult] = field(default_factory=dict)
