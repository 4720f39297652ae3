"""Veo 3.1: generate and extend (polled through record-info), and the two upgrades of a finished video.

Upgrades: ``GET /api/v1/veo/get-1080p-video?taskId=<parent>[&index=]`` and ``POST /api/v1/veo/get-4k-video``
``{taskId, index, callBackUrl}`` work on the *parent's* task id and answer the result URL itself once it is
ready. There is no task id of their own to poll (record-info of the parent still shows the 720p video), so
to fit the create → status model every caller relies on, an upgrade gets a **derived task id**:
``<parent>@1080p`` or ``<parent>@4k`` (``:<index>`` appended when another video of the task is asked for).
``@`` never occurs in KIE's ids (hex, UUIDs, ``veo_task_…``), so a derived id cannot collide with a real one.

- **Create** sends the first request and returns the derived id when the answer is OK, says the upgrade is
  *processing* (1080P: 400 "1080P is processing. It should be ready in 1-2 minutes…"; 4K: 422 "4k is
  processing. It should be ready in 5-10 minutes…"), or is the 4K's documented 422 "The video has been
  generated successfully" carrying ``resultUrls`` (an earlier request made it: a success). Any other refusal
  (422 "record is null", "record status is not success", "Temporarily supports records within 14 days",
  402, 404…) is raised as usual: nothing was started.
- **Status** of a derived id sends the same request again: 1080P the same GET; 4K the same POST without
  ``callBackUrl`` (KIE documents a repeated POST for one task as answering the 422 processing / already
  generated pair, not as a second job). URLs, under 200 or 422, are a success; 200 without URLs or a
  "processing" answer is in progress; another 4xx (the parent cannot be upgraded) or 501 is a failure;
  404 and "record is null" (not this account's task) and 429/455/5xx are raised like any status error.
- A **plain id** asked about with an upgrade model is read the same way, as the parent: a 4K callback names
  the parent's (or KIE's own) id, and the workflow polls every id a callback names.
- **4K callbacks** come in two documented shapes: ``data.taskId`` + ``data.info.resultUrls`` (callbacks page)
  and ``data.task_id`` + ``data.result_urls`` (OpenAPI schema); failure: code 500 + ``msg`` ("The 4K version
  of this video is unavailable…"). The 1080P page documents no callback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kie.adapters.base import Adapter, CreateRequest, Method, StatusRequest
from kie.envelope import read_envelope, task_id_in
from kie.errors import KieError, KieParseError, as_code
from kie.fields import mapping, reading, text, urls
from kie.models import MediaType, ModelRef, TaskStatus

log = logging.getLogger(__name__)

GET_1080P = "/api/v1/veo/get-1080p-video"
GET_4K = "/api/v1/veo/get-4k-video"
UPGRADE_MARK = "@"

# "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly." and the 4K twin.
_PROCESSING = re.compile(r"processing|not ready|check back", re.IGNORECASE)
# Refusals that mean "not a task of this account" rather than "this task cannot be upgraded": raised, so the
# caller may ask with another key, as for any status read.
_NOT_FOUND = re.compile(r"record(info)? is null|not found", re.IGNORECASE)


@dataclass(frozen=True)
class Upgrade:
    method: Method
    mark: str  # the derived id's suffix: "1080p" or "4k"


UPGRADES: dict[str, Upgrade] = {GET_1080P: Upgrade("GET", "1080p"), GET_4K: Upgrade("POST", "4k")}


def upgrade_task_id(parent: str, mark: str, index: int | None = None) -> str:
    """The derived task id of an upgrade: ``<parent>@<mark>``, ``:<index>`` added for a video other than 0."""
    return f"{parent}{UPGRADE_MARK}{mark}" + (f":{index}" if index else "")


def split_upgrade_id(task_id: str) -> tuple[str, str | None, int | None]:
    """(parent, mark, index) of a derived id; a plain id is its own parent, with no mark and no index."""
    parent, found, rest = task_id.partition(UPGRADE_MARK)
    if not found:
        return task_id, None, None
    mark, _, index = rest.partition(":")
    return parent, mark or None, int(index) if index.isdigit() else None


def _result_urls(result: Mapping[str, Any]) -> list[str]:
    found = urls(result.get("resultUrls"), what="veo resultUrls")
    # Some answers only fill fullResultUrls; a video is better than none.
    return found or urls(result.get("fullResultUrls"), what="veo fullResultUrls")


def _upgrade_urls(data: Any) -> list[str]:
    """The upgraded video: 1080P ``resultUrl``, 4K ``resultUrls``, the 4K callback's ``info.resultUrls`` or
    ``result_urls``. ``imageUrls`` are thumbnails, not results."""
    data = mapping(data)
    for holder in (data, mapping(data.get("info"))):
        for key in ("resultUrl", "resultUrls", "result_urls"):
            found = urls(holder.get(key), what=f"veo upgrade {key}")
            if found:
                return found
    return []


def _processing(error: KieError) -> bool:
    return 400 <= (error.code or 0) < 500 and bool(_PROCESSING.search(error.message or ""))


def _index(value: Any) -> int | None:
    if value is None or value == "":
        return None
    index = as_code(value)
    if index is None or index < 0:
        raise ValueError(f"veo upgrade: index={value!r} is not a video index")
    return index


class VeoAdapter(Adapter):
    api = "veo"
    create_path = "/api/v1/veo/generate"
    status_path = "/api/v1/veo/record-info"
    media = MediaType.VIDEO
    selectors: ClassVar[Mapping[str, frozenset[str]]] = {
        "/api/v1/veo/generate": frozenset({"veo3", "veo3_fast", "veo3_lite"}),
        "/api/v1/veo/extend": frozenset({"fast", "quality", "lite"}),
    }

    # --- requests ----------------------------------------------------------------------------------

    def create_request(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> CreateRequest:
        upgrade = UPGRADES.get(model.endpoint)
        if upgrade is None:
            return super().create_request(model, inputs, callback_url)
        parent, index = self._target(inputs)
        payload: dict[str, Any] = {"taskId": parent}
        if index is not None:
            payload["index"] = index
        if upgrade.method == "POST" and callback_url:
            payload["callBackUrl"] = callback_url  # the 1080P GET takes no callback
        return upgrade.method, model.endpoint, payload

    def status_request(self, model: ModelRef, task_id: str) -> StatusRequest:
        upgrade = UPGRADES.get(model.endpoint)
        if upgrade is None:
            return super().status_request(model, task_id)
        parent, _mark, index = split_upgrade_id(task_id)
        payload: dict[str, Any] = {"taskId": parent}
        if index is not None:
            payload["index"] = index
        return upgrade.method, model.endpoint, payload

    @staticmethod
    def _target(inputs: Mapping[str, Any]) -> tuple[str, int | None]:
        """The parent task and video index an upgrade request names (an upgraded result's derived id is
        followed back to its parent: a 4K of a 1080P generation is a 4K of the same Veo task)."""
        raw = text(inputs.get("taskId"))
        if raw is None:
            raise ValueError("a Veo upgrade needs the taskId of the Veo generation to upgrade")
        parent, _mark, derived_index = split_upgrade_id(raw)
        index = _index(inputs.get("index"))
        return parent, index if index is not None else derived_index

    # --- answers -----------------------------------------------------------------------------------

    def parse_create(
        self,
        body: Any,
        http_status: int,
        *,
        model: ModelRef | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> str:
        upgrade = UPGRADES.get(model.endpoint) if model is not None else None
        if upgrade is None:
            return super().parse_create(body, http_status)
        what = f"veo {upgrade.mark} create"
        try:
            with reading(what):
                parent, index = self._target(inputs or {})
                envelope = read_envelope(body, what=what, http_status=http_status)
                error = envelope.error(http_status)
                if error is not None and not _upgrade_urls(envelope.data) and not _processing(error):
                    raise error
                named = task_id_in(body)
                if named is not None and named != parent:
                    # Not in KIE's examples (they echo the parent); its callback may then name this id.
                    log.info("veo %s of %s answered task id %s", upgrade.mark, parent, named)
                return upgrade_task_id(parent, upgrade.mark, index)
        except KieParseError as exc:
            # An OK answer we cannot read may still have started (and billed) the upgrade.
            exc.ambiguous = exc.ambiguous or 200 <= http_status < 300
            raise

    def parse_status(
        self, body: Any, http_status: int, model: ModelRef, *, task_id: str | None = None
    ) -> TaskStatus:
        upgrade = UPGRADES.get(model.endpoint)
        if upgrade is None:
            return super().parse_status(body, http_status, model, task_id=task_id)
        what = f"veo {upgrade.mark} status"
        with reading(what):
            envelope = read_envelope(body, what=what, http_status=http_status)
            # The request named the task, so the answer is about it; the id in the answer (the 4K echoes the
            # parent's) is only a fallback for a caller that does not say which id it asked about.
            found = task_id or task_id_in(body)
            if found is None:
                raise KieParseError(f"{what}: no task id in the answer", http_status=http_status)
            error = envelope.error(http_status)
            result = _upgrade_urls(envelope.data)
            if result:
                stage = "ready" if error is None else "already generated"
                return self.succeeded(found, self.result_files(model, result), stage=stage)
            if error is None or _processing(error):
                return self.in_progress(found, stage="processing")
            not_found = error.code == 404 or _NOT_FOUND.search(error.message or "")
            if error.transient or error.operator or not_found:
                raise error
            return self.failed(found, code=str(error.code), message=error.message, stage="refused")

    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        # successFlag 3 is "upstream generation failed": as final as 2.
        return self.read_flagged(data, model, task_id, result_urls=_result_urls)

    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        result = mapping(data.get("info")) or mapping(data.get("response"))
        found = _result_urls(result) or _upgrade_urls(data)
        return self.succeeded(task_id, self.result_files(model, found), stage=None)
