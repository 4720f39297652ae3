"""What a bot fuzz does: its size and pace (:class:`BotFuzzPlan`), the models its create walk goes through,
the scenarios users take in turn, and the steps every run must reach."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_ID = 777_000_001  # ADMIN_IDS of the stacks this fuzz runs on (the admin walk needs it)
BOT_USERNAME = "genflow_local_bot"  # the simulator's name for the bot
# Models the create walk goes through, in turn: between them every kind of form step (text, choice, yes/no,
# number, JSON, photo, several photos, video, audio), free and paid; most are past their format's shortlist,
# so the walk pages through "More" to reach them.
WALK_MODELS = [
    ("text-to-image", "nano-banana"),
    ("image-to-image", "nano-banana-edit"),
    ("image-to-image", "qwen-edit"),
    ("text-to-video", "kling26-t2v"),
    ("text-to-audio", "el-dialogue"),
    ("video-editing", "topaz-video-up"),
    ("audio-editing", "el-isolation"),
    ("text-to-image", "gpt4o-image"),
    ("text-to-audio", "el-tts-turbo"),
    ("audio-to-video", "kling-avatar"),
]
SCENARIOS = ["create", "topup", "misc", "create", "blocked", "create", "topup"]
# Form steps and screens every full run must have fuzzed (the short test checks the same list).
REQUIRED_STEPS = [
    "start",
    "formats",
    "models",
    "models:more",
    "card",
    "form:text",
    "form:choice",
    "form:boolean",
    "form:number",
    "form:json",
    "form:media",
    "overview",
    "confirm",
    "topup",
    "invoice",
    "language",
    "blocked",
    "admin:panel",
    "admin:find",
    "admin:user",
    "admin:adjust",
    "admin:confirm",
]


@dataclass
class BotFuzzPlan:
    updates: int = 3000
    users: int = 45
    seed: int = 8
    gap: float = 1.05  # seconds between one user's flood-counted updates
    answer_timeout: float = 15.0
    real_payments: int = 4  # users who also pay an invoice for real (money a real flow moves)
    rss_margin_mb: float = 30.0
    warmup_share: float = 0.15  # RSS is measured from when this share of the updates was sent
