"""The follow-ups on a delivered result as KIE models (Veo 1080P and 4K, Runway extend, Suno extend and
upload-extend), and what their tests build answers from."""

from __future__ import annotations

from typing import Any

from kie.adapters import adapter_for
from kie.models import MediaType, ResultFile
from tests.kie.support import Model

_SUNO_STATUS = "/api/v1/generate/record-info"
VEO_1080P = Model(
    "veo3.1-1080p", "veo", "/api/v1/veo/get-1080p-video", "/api/v1/veo/get-1080p-video", "video"
)
VEO_4K = Model("veo3.1-4k", "veo", "/api/v1/veo/get-4k-video", "/api/v1/veo/get-4k-video", "video")
RUNWAY_EXTEND = Model(
    "runway-extend", "runway", "/api/v1/runway/extend", "/api/v1/runway/record-detail", "video"
)
SUNO_EXTEND = Model("suno/extend", "suno", "/api/v1/generate/extend", _SUNO_STATUS, "audio")
SUNO_UPLOAD_EXTEND = Model(
    "suno/upload-extend", "suno", "/api/v1/generate/upload-extend", _SUNO_STATUS, "audio"
)
VEO = adapter_for("veo")
SUNO_ADAPTER = adapter_for("suno")
PARENT = "veo_task_abcdef123456"
PROCESSING_1080P = {
    # The code and message an older version of the Veo generate page documents for "not ready yet".
    "code": 400,
    "msg": "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly.",
    "data": None,
}


def video(url: str) -> ResultFile:
    return ResultFile(url=url, media_type=MediaType.VIDEO)


def refusal(code: int, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": None}
