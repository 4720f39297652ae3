"""A generation's stage and its timeline, as operators read them in the Temporal UI.

The timeline is the workflow's current details (the last 30 steps); the stage is also the
``GenerationStage`` search attribute, upserted only at the stages operators search by: every upsert is a
billable action (the fine stage is in the status query, the details and the generations row).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.generation import GENERATION_STAGE, KIE_TASK_ID
    from contracts.models import Stage

SEARCHABLE_STAGES = {Stage.QUEUED, Stage.WAITING, Stage.DONE, Stage.FAILED, Stage.CANCELLED, Stage.REJECTED}
SHOWN = 30


class Timeline:
    def __init__(self) -> None:
        self.stage = Stage.VALIDATING
        self._lines: list[str] = []
        # Starters register search attributes at start (see workflows.starter). A test server that does not
        # know them starts without: upserting an unknown attribute would fail every workflow task.
        self.searchable = False

    def mark(self, stage: Stage, note: str, *, task_id: str | None = None) -> None:
        """Move to ``stage`` and add ``note`` to the timeline; entering a searchable stage upserts it (with
        the KIE task id when waiting on KIE: one command, one action)."""
        changed = stage != self.stage
        self.stage = stage
        self._lines.append(f"- `{workflow.now():%H:%M:%S}` **{stage.value}** — {note}")
        workflow.set_current_details("\n".join(self._lines[-SHOWN:]))
        if changed and self.searchable and stage in SEARCHABLE_STAGES:
            updates = [GENERATION_STAGE.value_set(stage.value)]
            if stage == Stage.WAITING and task_id:
                updates.append(KIE_TASK_ID.value_set(task_id))
            workflow.upsert_search_attributes(updates)

    def note(self, text: str) -> None:
        """A line in the timeline without a change of stage."""
        self.mark(self.stage, text)

    def task_found(self, task_id: str) -> None:
        """A later KIE task (a lost create answer's) becomes searchable on its own, once waiting on KIE."""
        if self.searchable and self.stage == Stage.WAITING:
            workflow.upsert_search_attributes([KIE_TASK_ID.value_set(task_id)])
