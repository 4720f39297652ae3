"""Shared test helpers: fixture loading and small catalog-model stand-ins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"

_MARKET = ("market", "/api/v1/jobs/createTask", "/api/v1/jobs/recordInfo")
_SUNO_STATUS = "/api/v1/generate/record-info"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Model:
    """Satisfies kie.models.ModelRef, as the catalog's ModelSpec will."""

    id: str
    api: str
    endpoint: str
    status_endpoint: str
    output: str


NANO_BANANA = Model("google/nano-banana", *_MARKET, "image")
NANO_BANANA_PRO = Model("nano-banana-pro", *_MARKET, "image")
GROK_IMAGE = Model("grok-imagine/text-to-image", *_MARKET, "image")
HAILUO = Model("hailuo/02-image-to-video-standard", *_MARKET, "video")
KLING_T2V = Model("kling-2.6/text-to-video", *_MARKET, "video")
VEO = Model("veo3.1", "veo", "/api/v1/veo/generate", "/api/v1/veo/record-info", "video")
VEO_FAST = Model("veo3_fast", "veo", "/api/v1/veo/generate", "/api/v1/veo/record-info", "video")
VEO_EXTEND = Model("veo3.1-extend", "veo", "/api/v1/veo/extend", "/api/v1/veo/record-info", "video")
RUNWAY = Model("runway", "runway", "/api/v1/runway/generate", "/api/v1/runway/record-detail", "video")
ALEPH = Model("runway-aleph", "runway", "/api/v1/aleph/generate", "/api/v1/aleph/record-info", "video")
SUNO = Model("suno/generate-music", "suno", "/api/v1/generate", _SUNO_STATUS, "audio")
SUNO_COVER = Model("suno/upload-cover", "suno", "/api/v1/generate/upload-cover", _SUNO_STATUS, "audio")
SUNO_INSTRUMENTAL = Model(
    "suno/add-instrumental", "suno", "/api/v1/generate/add-instrumental", _SUNO_STATUS, "audio"
)
GPT4O = Model(
    "gpt4o-image", "gpt4o_image", "/api/v1/gpt4o-image/generate", "/api/v1/gpt4o-image/record-info", "image"
)
FLUX = Model(
    "flux-kontext",
    "flux_kontext",
    "/api/v1/flux/kontext/generate",
    "/api/v1/flux/kontext/record-info",
    "image",
)


class Rejections:
    """ModelRejections in memory: a model's first refusal of the day asks for an alert."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str | None]] = []

    async def record(self, generation_id: str, model_id: str, code: str | None, message: str | None) -> bool:
        first = all(m != model_id for _, m, _ in self.recorded)
        self.recorded.append((generation_id, model_id, code))
        return first
