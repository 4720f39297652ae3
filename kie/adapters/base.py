"""The interface every KIE family adapter implements, and the reading most families share.

An adapter is pure: it builds request pieces and reads answer bodies, and never does I/O, so the same code
serves the HTTP client, the webhook server and the tests. Public methods never let a KeyError, TypeError or
JSON error escape: whatever cannot be read becomes a ``KieParseError``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

from kie.envelope import OK, Envelope, read_envelope, require_task_id
from kie.errors import KieError, KieParseError, Kind, as_code
from kie.fields import first_text, flag, mapping, reading, text
from kie.media import media_from_output, media_from_url
from kie.models import CallbackInfo, MediaType, ModelRef, ResultFile, TaskState, TaskStatus

log = logging.getLogger(__name__)

Method = Literal["GET", "POST"]
# (method, path, payload): a GET's payload goes into the query string, a POST's is the JSON body.
CreateRequest = tuple[Method, str, dict[str, Any]]
StatusRequest = tuple[Method, str, dict[str, Any]]


class Adapter(ABC):
    """One KIE API family: how to ask it for work and how to read what it says back."""

    api: ClassVar[str]
    create_path: ClassVar[str]  # used when the catalog model has no endpoint of its own
    status_path: ClassVar[str]
    media: ClassVar[MediaType | None] = None  # what the family produces; None = the model's `output`
    # Per create endpoint, the values of the body's `model` selector. A catalog model whose id is one of
    # them sends it when the inputs do not choose; other ids (labels such as "veo3.1") are never sent.
    selectors: ClassVar[Mapping[str, frozenset[str]]] = {}

    # --- create ------------------------------------------------------------------------------------

    def create_request(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> CreateRequest:
        return "POST", self._create_path(model), self.create_body(model, inputs, callback_url)

    def create_body(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
        """Special APIs take a flat body. Our callback URL always wins: it routes results to the workflow."""
        body = {key: value for key, value in inputs.items() if key != "callBackUrl"}
        selector = self._selector(model)
        if selector is not None and "model" not in body:
            body["model"] = selector
        if callback_url:
            body["callBackUrl"] = callback_url
        return body

    def lookup_request(self, model: ModelRef, inputs: Mapping[str, Any]) -> StatusRequest | None:
        """A read the create needs first (Suno extend: the earlier task's record, for its track id), or None.

        It is only a read: a failure leaves nothing behind on KIE, so it is never ambiguous."""
        return None

    def resolve_inputs(
        self, model: ModelRef, inputs: Mapping[str, Any], body: Any, http_status: int
    ) -> Mapping[str, Any]:
        """The inputs to create with, given the answer to ``lookup_request``."""
        return inputs

    def parse_create(
        self,
        body: Any,
        http_status: int,
        *,
        model: ModelRef | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> str:
        """The new task's id, or the KieError the answer reports. ``model`` and ``inputs`` (what was asked)
        matter only to calls that answer without a task id of their own (Veo's 1080P and 4K)."""
        what = f"{self.api} create"
        try:
            with reading(what):
                envelope = read_envelope(body, what=what, http_status=http_status)
                error = envelope.error(http_status)
                if error is not None:
                    raise error
                return require_task_id(body, what=what)
        except KieParseError as exc:
            # An OK answer we cannot read may still have created (and billed) a task.
            exc.ambiguous = exc.ambiguous or 200 <= http_status < 300
            raise

    # --- status ------------------------------------------------------------------------------------

    def status_request(self, model: ModelRef, task_id: str) -> StatusRequest:
        return "GET", model.status_endpoint or self.status_path, {"taskId": task_id}

    def parse_status(
        self, body: Any, http_status: int, model: ModelRef, *, task_id: str | None = None
    ) -> TaskStatus:
        """Normalize a status answer. ``task_id`` (the id we asked about) fills in for an answer that
        names none, and an answer about another task is rejected."""
        what = f"{self.api} status"
        with reading(what):
            envelope = read_envelope(body, what=what, http_status=http_status)
            error = envelope.error(http_status)
            if error is not None:
                final = self.final_by_code(envelope, error, task_id)
                if final is not None:
                    return final
                raise status_error(error)
            if not isinstance(envelope.data, Mapping):
                raise KieParseError(f"{what}: the answer holds no task record", http_status=http_status)
            found_id = require_task_id(body, what=what, expected=task_id)
            return self.read_record(envelope.data, model, found_id)

    def final_by_code(self, envelope: Envelope, error: KieError, task_id: str | None) -> TaskStatus | None:
        """Hook for families whose error codes on a status read mean "the task failed" (Suno's 531)."""
        return None

    @abstractmethod
    def read_record(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        """Read the ``data`` of a successful status answer."""

    # --- callbacks ---------------------------------------------------------------------------------

    def parse_callback(self, body: Any, model: ModelRef) -> CallbackInfo:
        """Read a callback. Raises KieParseError only when no task id can be trusted; an outcome that
        cannot be read gives ``status=None`` (the workflow then asks the status endpoint)."""
        what = f"{self.api} callback"
        with reading(what):
            task_id = require_task_id(body, what=what)
            callback_type = text(mapping(mapping(body).get("data")).get("callbackType"))
        try:
            with reading(what):
                status = self.read_callback(read_envelope(body, what=what), model, task_id)
        except KieParseError as exc:
            log.warning("%s for task %s has no readable outcome: %s", what, task_id, exc.message)
            status = None
        return CallbackInfo(task_id=task_id, status=status, callback_type=callback_type)

    def read_callback(self, envelope: Envelope, model: ModelRef, task_id: str) -> TaskStatus:
        """A callback with a non-OK code reports a failed task; otherwise its data holds the result."""
        data = mapping(envelope.data)
        if envelope.code is not None and envelope.code != OK:
            return self.failed(
                task_id,
                code=first_text(data, "failCode", "errorCode") or str(envelope.code),
                message=first_text(data, "failMsg", "errorMessage") or envelope.message,
                stage=first_text(data, "state", "callbackType"),
            )
        return self.read_callback_result(data, model, task_id)

    @abstractmethod
    def read_callback_result(self, data: Mapping[str, Any], model: ModelRef, task_id: str) -> TaskStatus:
        """Read the ``data`` of a callback whose code is OK."""

    # --- helpers for the families ------------------------------------------------------------------

    def result_files(
        self, model: ModelRef, urls: Sequence[str], titles: Sequence[str | None] | None = None
    ) -> list[ResultFile]:
        titles = titles or [None] * len(urls)
        return [
            ResultFile(url=url, media_type=self.media_for(model, url), title=title)
            for url, title in zip(urls, titles, strict=True)
        ]

    def media_for(self, model: ModelRef, url: str) -> MediaType:
        return self.media or media_from_output(model.output) or media_from_url(url)

    def succeeded(
        self, task_id: str, files: list[ResultFile], *, stage: str | None, progress: float | None = None
    ) -> TaskStatus:
        if not files:
            # Nothing to deliver is not a success we can act on; the next poll may have the URLs.
            raise KieParseError(f"{self.api}: task {task_id} reports success without any result URL")
        return TaskStatus(
            task_id=task_id, state=TaskState.SUCCEEDED, files=files, stage=stage, progress=progress
        )

    @staticmethod
    def failed(task_id: str, *, code: str | None, message: str | None, stage: str | None) -> TaskStatus:
        return TaskStatus(
            task_id=task_id, state=TaskState.FAILED, fail_code=code, fail_message=message, stage=stage
        )

    @staticmethod
    def in_progress(task_id: str, *, stage: str | None, progress: float | None = None) -> TaskStatus:
        return TaskStatus(task_id=task_id, state=TaskState.IN_PROGRESS, stage=stage, progress=progress)

    def read_flagged(
        self,
        data: Mapping[str, Any],
        model: ModelRef,
        task_id: str,
        *,
        result_urls: Callable[[Mapping[str, Any]], list[str]],
        success_flag: int | None = None,
        stage: str | None = None,
        progress: float | None = None,
        error_means_failed: bool = False,
    ) -> TaskStatus:
        """The record shape of the ``successFlag`` families (Veo, 4o, Flux Kontext, Runway Aleph):
        0 running, 1 done (results in ``response``), 2 and 3 failed (``errorCode``/``errorMessage``)."""
        what = f"{self.api} status"
        if success_flag is None:
            success_flag = flag(data, "successFlag", what=what)
        if success_flag is None:
            raise KieParseError(f"{what}: the record has no successFlag")
        stage = stage or str(success_flag)
        code = text(data.get("errorCode"))
        if as_code(code) == 0:  # Aleph reports errorCode 0 on success
            code = None
        message = text(data.get("errorMessage"))
        if success_flag == 0:
            if error_means_failed and (code or message):
                return self.failed(task_id, code=code, message=message, stage=stage)
            return self.in_progress(task_id, stage=stage, progress=progress)
        if success_flag == 1:
            found = result_urls(mapping(data.get("response")))
            return self.succeeded(task_id, self.result_files(model, found), stage=stage, progress=progress)
        if success_flag in (2, 3):
            return self.failed(task_id, code=code, message=message, stage=stage)
        raise KieParseError(f"{what}: unknown successFlag {success_flag}")

    def _create_path(self, model: ModelRef) -> str:
        return model.endpoint or self.create_path

    def _selector(self, model: ModelRef) -> str | None:
        allowed = self.selectors.get(self._create_path(model), frozenset())
        return model.id if model.id in allowed else None


def status_error(error: KieError) -> KieError:
    # "recordInfo is null" (422) means the task is not visible yet: ask again, do not give up.
    if error.code == 422 and "null" in (error.message or "").lower():
        error.kind = Kind.TRANSIENT
    return error
