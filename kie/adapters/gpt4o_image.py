"""GPT-4o image: ``successFlag`` plus a ``status`` word, progress as a string fraction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kie.adapters.base import Adapter
from kie.fields import flag, fraction, mapping, text, urls
from kie.models import MediaType, ModelRef, TaskStatus

# The `status` word, for answers that carry it without a usable successFlag.
_FLAG_BY_STATUS = {"GENERATING": 0, "SUCCESS": 1, "CREATE_TASK_FAILED": 2, "GENERATE_FAILED": 2}


def _result_urls(result: Mapping[str, Any]) -> list[str]:
    # The OpenAPI page says resultUrls, the quickstart and callbacks say result_urls.
    return urls(result.get("resultUrls"), what="4o resultUrls") or urls(
        result.get("result_urls"), what="4o result_urls"
    )


class Gpt4oImageAdapter(Adapter):
    api = "gpt4o_image"
    create_path = "/api/v1/gpt4o-image/generate"
    status_path = "/api/v1/gpt4o-image/record-info"
    media = MediaType.IMAGE

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        status = text(data.get("status"))
        success_flag = flag(data, "successFlag", what="4o status")
        if success_flag is None and status is not None:
            success_flag = _FLAG_BY_STATUS.get(status.upper())
        return self.read_flagged(
            data,
            model,
            task_id,
            result_urls=_result_urls,
            success_flag=success_flag,
            stage=status,
            progress=fraction(data.get("progress"), percent=False, what="4o status"),
        )

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        result = mapping(data.get("info")) or mapping(data.get("response"))
        return self.succeeded(task_id, self.result_files(model, _result_urls(result)), stage=None)
