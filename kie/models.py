"""The normalized view of a KIE task that the rest of Genflow works with.

Every KIE family (Market, Veo, Runway, Suno, 4o, Flux Kontext) reports progress in its own shape;
the adapters in ``kie.adapters`` turn all of them into these few frozen types.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class TaskState(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class MediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    UNKNOWN = "unknown"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResultFile(_Frozen):
    url: str
    media_type: MediaType
    title: str | None = None


class TaskStatus(_Frozen):
    """One reading of a task.

    ``files`` is non-empty exactly when ``state`` is SUCCEEDED: adapters never report URLs of a task
    that is still running or has failed, even when KIE's body happens to carry some.
    """

    task_id: str
    state: TaskState
    files: list[ResultFile] = Field(default_factory=list)
    fail_code: str | None = None
    fail_message: str | None = None
    progress: float | None = Field(default=None, ge=0.0, le=1.0)
    # The raw stage KIE reported: Market/Runway `state`, Suno `status` or callbackType, or a successFlag.
    stage: str | None = None

    @property
    def is_final(self) -> bool:
        return self.state is not TaskState.IN_PROGRESS


class CallbackInfo(_Frozen):
    """What a KIE callback says.

    ``status`` is None when the body names the task but its outcome cannot be read: the callback is then
    just a nudge to confirm with the status endpoint (which must happen anyway before money moves).
    """

    task_id: str
    status: TaskStatus | None = None
    callback_type: str | None = None


class ModelRef(Protocol):
    """What the KIE layer needs to know about a catalog model (the catalog's ModelSpec satisfies it)."""

    @property
    def id(self) -> str: ...

    @property
    def api(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def status_endpoint(self) -> str: ...

    @property
    def output(self) -> str: ...
