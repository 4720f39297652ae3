"""KIE's answer envelope ``{"code": int, "msg": str, "data": ...}`` and where task ids hide in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kie.errors import KieError, KieParseError, as_code
from kie.fields import mapping, text

OK = 200


@dataclass(frozen=True, slots=True)
class Envelope:
    code: int | None  # None when the body carries no code at all
    message: str | None
    data: Any
    body: Mapping[str, Any]

    def error(self, http_status: int | None) -> KieError | None:
        """The failure this answer reports, if any. KIE may or may not mirror the body code in the HTTP
        status, so both are checked; the body code is the more specific of the two."""
        body_failed = self.code is not None and self.code != OK
        http_failed = http_status is not None and not 200 <= http_status < 300
        if body_failed:
            code = self.code
        elif http_failed:
            code = http_status
        elif self.body.get("success") is False:
            # Upload answers add a `success` flag; a false one with an OK code is still a failure.
            code = None
        else:
            return None
        message = self.message or (f"HTTP {http_status}" if http_failed else "request failed")
        return KieError(message, code=code, http_status=http_status)


def read_envelope(body: Any, *, what: str, http_status: int | None = None) -> Envelope:
    if not isinstance(body, Mapping):
        raise KieParseError(
            f"{what}: expected a JSON object, got {type(body).__name__}", http_status=http_status
        )
    raw_code = body.get("code")
    code = as_code(raw_code)
    if raw_code is not None and raw_code != "" and code is None:
        raise KieParseError(f"{what}: code={raw_code!r} is not a number", http_status=http_status)
    message = text(body.get("msg")) or text(body.get("message"))
    return Envelope(code=code, message=message, data=body.get("data"), body=body)


def ok_data(body: Any, http_status: int | None, *, what: str) -> Any:
    """``data`` of a successful answer; raises the KieError the answer reports otherwise."""
    envelope = read_envelope(body, what=what, http_status=http_status)
    error = envelope.error(http_status)
    if error is not None:
        raise error
    return envelope.data


class TaskIdConflict(KieParseError):
    """The body names more than one task id."""


def task_id_in(body: Any) -> str | None:
    """The task id a body names: top-level ``taskId``, else ``data.taskId``, else ``data.task_id``.

    Every place present must agree; disagreement (or a non-string id) raises ``TaskIdConflict``,
    because routing such a body to either task could be wrong. Absent, null and "" count as absent.
    """
    top = mapping(body)
    data = mapping(top.get("data"))
    found: list[str] = []
    for place, value in (
        ("taskId", top.get("taskId")),
        ("data.taskId", data.get("taskId")),
        ("data.task_id", data.get("task_id")),
    ):
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not value.strip():
            raise TaskIdConflict(f"{place}={value!r} is not a task id")
        found.append(value.strip())
    if len(set(found)) > 1:
        raise TaskIdConflict(f"the body names different task ids: {sorted(set(found))}")
    return found[0] if found else None


def require_task_id(body: Any, *, what: str, expected: str | None = None) -> str:
    """The body's task id, falling back to ``expected`` (the id we asked about) when it names none."""
    found = task_id_in(body)
    if found is None and expected:
        return expected
    if found is None:
        raise KieParseError(f"{what}: no task id in the answer")
    if expected and found != expected:
        raise KieParseError(f"{what}: answer is about task {found!r}, not {expected!r}")
    return found
