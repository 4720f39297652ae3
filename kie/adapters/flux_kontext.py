"""Flux Kontext: image generation and editing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kie.adapters.base import Adapter
from kie.fields import mapping, urls
from kie.models import MediaType, ModelRef, TaskStatus


def _result_urls(result: Mapping[str, Any]) -> list[str]:
    return urls(result.get("resultImageUrl"), what="flux resultImageUrl") or urls(
        result.get("resultUrls"), what="flux resultUrls"
    )


class FluxKontextAdapter(Adapter):
    api = "flux_kontext"
    create_path = "/api/v1/flux/kontext/generate"
    status_path = "/api/v1/flux/kontext/record-info"
    media = MediaType.IMAGE
    selectors: ClassVar[Mapping[str, frozenset[str]]] = {
        "/api/v1/flux/kontext/generate": frozenset({"flux-kontext-pro", "flux-kontext-max"})
    }

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        # successFlag 2 = task creation failed, 3 = generation failed.
        return self.read_flagged(data, model, task_id, result_urls=_result_urls)

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        result = mapping(data.get("info")) or mapping(data.get("response"))
        return self.succeeded(task_id, self.result_files(model, _result_urls(result)), stage=None)
