"""A simulated KIE task: what was asked, what was planned, and how far it has got."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from simulators.kie.config import MediaKind
from simulators.kie.envelope import account_label
from simulators.kie.media import EXTENSION
from simulators.kie.plan import Plan

if TYPE_CHECKING:
    from simulators.kie.families.base import Family


@dataclass
class CallbackRecord:
    """One delivery attempt (or a deliberate non-delivery) of one callback."""

    label: str  # "final", or Suno's "text" / "first" / "complete" / "error"
    copy: int  # 1 for the first copy, 2-3 for duplicates
    attempt: int
    at_ms: int
    status: int | None = None  # receiver's HTTP status; None when it could not be reached
    outcome: Literal["delivered", "rejected", "error", "lost", "given_up"] = "delivered"
    error: str | None = None


@dataclass(eq=False)
class SimTask:
    task_id: str
    family: Family
    kind: str  # which create endpoint: "generate", "extend", "upload-cover", ...
    model: str
    output: MediaKind
    body: dict[str, Any]
    callback_url: str | None
    plan: Plan
    created_at: float  # wall clock, seconds
    started: float  # event-loop clock, seconds
    updated_at: float = 0.0  # wall clock of the last stage change
    n_results: int = 1
    stage: int = 0  # index into family.stages while in progress
    outcome: Literal["success", "fail"] | None = None
    fail_code: int | None = None
    fail_msg: str = ""
    completed_at: float | None = None
    consumed_credits: int = 0
    remained_credits: int | None = None
    callbacks: list[CallbackRecord] = field(default_factory=list)
    deferred: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # out-of-order Suno stages
    forced: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # final state reached
    settled: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # final, callbacks done
    pending_deliveries: int = 0
    account: str = ""  # the Bearer token that created it: another account cannot see it
    wire_id: str | None = None  # the id its callbacks name and sign, when not task_id (Veo upgrades)

    @property
    def callback_id(self) -> str:
        return self.wire_id or self.task_id

    @property
    def is_final(self) -> bool:
        return self.outcome is not None

    @property
    def stage_name(self) -> str:
        return self.outcome or self.family.stages[self.stage]

    @property
    def create_ms(self) -> int:
        return int(self.created_at * 1000)

    @property
    def update_ms(self) -> int:
        return int((self.updated_at or self.created_at) * 1000)

    @property
    def complete_ms(self) -> int | None:
        return int(self.completed_at * 1000) if self.completed_at is not None else None

    @property
    def param(self) -> str:
        """The create body as a JSON string (KIE's ``param`` / ``paramJson``)."""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":"))

    def result_paths(self) -> list[str]:
        """Server paths of the result files (``/files/<task>/<n>.<ext>``)."""
        ext = EXTENSION[self.output]
        return [f"/files/{self.task_id}/{n}.{ext}" for n in range(self.n_results)]

    def summary(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "family": self.family.name,
            "kind": self.kind,
            "model": self.model,
            "output": self.output,
            "stage": self.stage_name,
            "final": self.is_final,
            "createTime": self.create_ms,
            "completeTime": self.complete_ms,
            "account": account_label(self.account),
            "callBackUrl": self.callback_url,
        }

    def details(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "body": self.body,
            "plan": self.plan.__dict__,
            "failCode": self.fail_code,
            "failMsg": self.fail_msg,
            "resultPaths": self.result_paths() if self.outcome == "success" else [],
            "consumeCredits": self.consumed_credits,
            "callbacks": [record.__dict__ for record in self.callbacks],
        }
