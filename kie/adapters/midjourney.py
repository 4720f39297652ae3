"""Midjourney (``/api/v1/mj/*``): four images per image task, one to four videos per video task.

One create endpoint serves every mode; ``taskType`` picks it. The record and the callback list the results
in two shapes: record-info ``resultInfoJson.resultUrls`` as ``[{"resultUrl": ...}]``, the callback
``data.resultUrls`` as plain strings. Both readers accept either, since KIE's pages are not always right
about which is which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kie.adapters.base import Adapter
from kie.errors import KieParseError
from kie.fields import json_value, mapping, urls
from kie.models import ModelRef, TaskStatus

TXT2IMG, IMG2IMG, VIDEO = "mj_txt2img", "mj_img2img", "mj_video"
# Keys an item of resultUrls may carry its URL under when it is an object.
_URL_KEYS = ("resultUrl", "url")


def task_type_for(model: ModelRef, inputs: Mapping[str, Any]) -> str:
    """The ``taskType`` a request without one means: a video model animates, a photo edits, else text."""
    if model.output == "video":
        return VIDEO
    return IMG2IMG if inputs.get("fileUrls") or inputs.get("fileUrl") else TXT2IMG


def result_urls(value: Any, *, what: str) -> list[str]:
    """URLs from ``resultUrls``: strings, ``{"resultUrl": ...}`` objects, or such a list as JSON text."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = json_value(value, what=what)
    if not isinstance(value, list):
        return urls(value, what=what)  # a single URL, null, or garbage (raises)
    found: list[str] = []
    for item in value:
        if isinstance(item, Mapping):
            item = next((item[key] for key in _URL_KEYS if isinstance(item.get(key), str)), None)
            if item is None:
                raise KieParseError(f"{what}: a result object without resultUrl")
        found += urls(item, what=what)
    return found


def _info_urls(holder: Mapping[str, Any], *, what: str) -> list[str]:
    # resultInfoJson is an object on the pages; its name says JSON text, so a string is read too.
    info = mapping(json_value(holder.get("resultInfoJson"), what=f"{what} resultInfoJson"))
    return result_urls(info.get("resultUrls"), what=f"{what} resultInfoJson.resultUrls")


class MidjourneyAdapter(Adapter):
    api = "midjourney"
    create_path = "/api/v1/mj/generate"
    status_path = "/api/v1/mj/record-info"

    def create_body(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
        body = super().create_body(model, inputs, callback_url)
        # The catalog sends taskType as a system default; a bare request still gets the mode it means.
        if not body.get("taskType"):
            body["taskType"] = task_type_for(model, inputs)
        return body

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        # successFlag 2 = the task failed, 3 = created but generation failed: both final.
        return self.read_flagged(
            data, model, task_id, result_urls=lambda _response: _info_urls(data, what="mj status")
        )

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        found = result_urls(data.get("resultUrls"), what="mj callback resultUrls") or _info_urls(
            data, what="mj callback"
        )
        return self.succeeded(task_id, self.result_files(model, found), stage=None)
