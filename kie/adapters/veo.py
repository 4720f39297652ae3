"""Veo 3.1: generate and extend, polled through one record-info endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kie.adapters.base import Adapter
from kie.fields import mapping, urls
from kie.models import MediaType, ModelRef, TaskStatus


def _result_urls(result: Mapping[str, Any]) -> list[str]:
    found = urls(result.get("resultUrls"), what="veo resultUrls")
    # Some answers only fill fullResultUrls; a video is better than none.
    return found or urls(result.get("fullResultUrls"), what="veo fullResultUrls")


class VeoAdapter(Adapter):
    api = "veo"
    create_path = "/api/v1/veo/generate"
    status_path = "/api/v1/veo/record-info"
    media = MediaType.VIDEO
    selectors: ClassVar[Mapping[str, frozenset[str]]] = {
        "/api/v1/veo/generate": frozenset({"veo3", "veo3_fast", "veo3_lite"}),
        "/api/v1/veo/extend": frozenset({"fast", "quality", "lite"}),
    }

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        # successFlag 3 is "upstream generation failed": as final as 2.
        return self.read_flagged(data, model, task_id, result_urls=_result_urls)

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        result = mapping(data.get("info")) or mapping(data.get("response"))
        return self.succeeded(task_id, self.result_files(model, _result_urls(result)), stage=None)
