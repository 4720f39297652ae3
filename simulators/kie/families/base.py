"""What every API family provides: its routes, its status shape and its callback shapes."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from aiohttp import web

from simulators.kie.engine import Engine
from simulators.kie.envelope import account_of, error, json_body, reply
from simulators.kie.tasks import SimTask

Callback = tuple[str, dict[str, Any]]  # (label for inspection, JSON body)


class Family(ABC):
    name: ClassVar[str]
    stages: ClassVar[tuple[str, ...]]
    """In-progress stage names, walked evenly over the task's latency (the first one at create)."""
    id_style: ClassVar[Literal["hex", "uuid"]] = "hex"
    status_path: ClassVar[str]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.status_path, self.status), *self.create_routes()]

    @abstractmethod
    def create_routes(self) -> list[web.RouteDef]: ...

    @abstractmethod
    def status_data(self, task: SimTask) -> dict[str, Any]:
        """``data`` of the status endpoint, for any stage."""

    @abstractmethod
    def final_callback(self, task: SimTask) -> Callback: ...

    def stage_callback(self, task: SimTask) -> Callback | None:
        """A callback to send when the task reaches ``task.stage`` (only Suno has these)."""
        return None

    def create_extra(self, task: SimTask) -> dict[str, Any]:
        """Extra members of the create answer's ``data`` besides ``taskId``."""
        return {}

    # --- shared plumbing ------------------------------------------------------------------------

    async def status(self, request: web.Request) -> web.Response:
        found = self.engine.find(self, request.query.get("taskId"), account_of(request))
        if isinstance(found, web.Response):
            return found
        return reply(200, "success", self.status_data(found))

    async def read_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        body = await json_body(request)
        if body is None:
            return self.invalid("Request body must be a JSON object", code=400)
        return body

    def invalid(self, msg: str, *, code: int = 422) -> web.Response:
        self.engine.stats[f"create_invalid_{code}"] += 1
        return error(self.engine.config, code, msg)

    def missing(self, body: dict[str, Any], *fields: str) -> web.Response | None:
        """A 422 naming the first required field that is absent or empty."""
        for name in fields:
            if body.get(name) in (None, "", []):
                return self.invalid(f"{name} is required")
        return None

    def urls(self, task: SimTask) -> list[str]:
        return [self.engine.url_for(path) for path in task.result_paths()]

    def file_url(self, task: SimTask, name: str) -> str:
        return self.engine.url_for(f"/files/{task.task_id}/{name}")


# --- helpers for the families' shapes -------------------------------------------------------------


def sub_id(task: SimTask, what: str) -> str:
    """A stable secondary id (video id, track id) derived from the task id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task.task_id}/{what}"))


def clock(ts: float | None) -> str | None:
    """``2025-06-06 10:30:00`` (UTC), the style of Veo/Runway/Suno pages."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts is not None else None


def iso(ts: float | None) -> str | None:
    """``2024-03-20T10:30:00Z``, the style of the Flux Kontext page."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts is not None else None


def fail_flag(task: SimTask) -> int:
    """successFlag of a failed task: 2 when the request was refused (4xx), 3 when generation failed."""
    return 2 if (task.fail_code or 500) < 500 else 3
