"""Version B of ``GenerationWorkflow``: the product's workflow with two changes behind ``workflow.patched``,
for the rolling-upgrade run (``testkit.upgrade``). Not product code: it stands for "the next release".

Registered under the same workflow type, ``GenerationWorkflow``, so it picks up every generation version A
started. Its two steps sit at the two kinds of places a deploy meets running workflows:

- ``EARLY`` (at the start, before validating): B records in the memo that it started the generation. Every
  generation in flight during the deploy has passed this point, so when B replays one, ``patched`` finds no
  marker and returns False: the step is skipped, the history matches.
- ``LATE`` (once KIE's result is in, before charging): B waits a short timer. Generations of A still waiting
  for KIE have not reached this point: B takes it live (the marker is written then), and a history that
  passed it on A replays with ``patched`` False.

Two patch ids, not one: ``patched`` remembers its first answer per id for the whole run, so a False at the
start (a replay) would also switch off the later step.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.models import GenerationRequest, GenerationResult, Outcome, Reason, ResultFile
    from workflows.generation import GenerationWorkflow

EARLY = "upgrade-b-started-memo"
LATE = "upgrade-b-pause-before-charge"
MEMO_KEY = "started_on"
PAUSE = timedelta(milliseconds=500)


@workflow.defn(name="GenerationWorkflow", sandboxed=False)
class GenerationWorkflowB(GenerationWorkflow):
    # The SDK wants @workflow.run on the class it registers; signals, updates and queries are inherited.
    @workflow.run
    async def run(self, request: GenerationRequest) -> GenerationResult:
        if workflow.patched(EARLY):
            workflow.upsert_memo({MEMO_KEY: "B"})
        return await super().run(request)

    async def _settle(
        self,
        *,
        success: bool,
        outcome: Outcome,
        reason: Reason | None = None,
        detail: str | None = None,
        task_id: str | None = None,
        files: list[ResultFile] | None = None,
    ) -> GenerationResult:
        if success and workflow.patched(LATE):
            await workflow.sleep(PAUSE, summary="version B: a pause before charging")
        return await super()._settle(
            success=success, outcome=outcome, reason=reason, detail=detail, task_id=task_id, files=files
        )


def install(workflows: MutableSequence[type[object]]) -> None:
    """Put version B in version A's place in a worker's list of workflow classes."""
    workflows[workflows.index(GenerationWorkflow)] = GenerationWorkflowB
