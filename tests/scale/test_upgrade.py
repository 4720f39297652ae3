"""A rolling upgrade with a workflow change, reduced (`make upgrade` runs 100 generations): 16 generations
started on version A wait for KIE while the two worker replicas are replaced one by one with version B, whose
``GenerationWorkflow`` adds two steps behind ``workflow.patched`` (testkit/upgrade/version_b.py). Every
generation of A finishes, none fails a replay, those that had passed B's first step skip it and those that had
not reached its second take it; generations started on B take both. On the way, the runbook's drain commands
("Watching a deploy drain") run verbatim with the real ``temporal`` CLI against this stack.

Deterministic: KIE finishes each task only when told, and each batch closes before the next replica stops.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

import pytest
from temporalio import workflow

from contracts.models import GenerationRequest, GenerationResult, Outcome, Reason, ResultFile
from genflow.embedded import temporal_cli
from testkit.checks import failed
from testkit.harness import Harness
from testkit.upgrade.rollout import UpgradePlan, UpgradeRun, run_upgrade
from testkit.upgrade.verdict import collect, judge, replay_failures
from testkit.upgrade.version_b import LATE, MEMO_KEY, PAUSE, GenerationWorkflowB
from tests.fixtures.postgres import create_database
from workflows.generation import GenerationWorkflow

PLAN = UpgradePlan(generations=16, finish_before=4, finish_during=4, started_on_b=4, users=4, within=60.0)
RUNBOOK = (Path(__file__).resolve().parents[2] / "docs" / "runbook.md").read_text()

# The runbook's lines, verbatim; its example patch id and workflow id are swapped for this run's.
DRAIN = (
    "temporal workflow count --query \"WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running' "
    "AND StartTime < '$DEPLOYED_AT'\""
)
DRAIN_LIST = DRAIN.replace("workflow count", "workflow list")
POLLERS = "temporal task-queue describe --task-queue genflow"
PATCHED = (
    "temporal workflow count --query \"WorkflowType = 'GenerationWorkflow' "
    "AND TemporalChangeVersion = 'pause-before-charge'\""
)
PROBLEMS = (
    "temporal workflow list --query \"WorkflowType = 'GenerationWorkflow' "
    "AND TemporalReportedProblems IN ('category=WorkflowTaskFailed')\""
)
FINISHED_BY = (
    "temporal workflow show --workflow-id gen-123456789-5f2a9c1e7d3b --output json | jq -r "
    "'[.events[] | select(.workflowTaskCompletedEventAttributes) "
    "| .workflowTaskCompletedEventAttributes.identity] | last'"
)
TASK_FAILURES = (
    "temporal workflow show --workflow-id gen-123456789-5f2a9c1e7d3b --output json | jq "
    "'[.events[] | select(.workflowTaskFailedEventAttributes)] | length'"
)
EXAMPLE_ID = "gen-123456789-5f2a9c1e7d3b"
DRAINING = PLAN.generations - PLAN.finish_before - PLAN.finish_during  # in flight once the deploy is done


@workflow.defn(name="GenerationWorkflow", sandboxed=False)
class UnguardedB(GenerationWorkflow):
    """Version B's first step without its ``workflow.patched``: what the guard is for."""

    @workflow.run
    async def run(self, request: GenerationRequest) -> GenerationResult:
        workflow.upsert_memo({MEMO_KEY: "B"})
        return await super().run(request)


@workflow.defn(name="GenerationWorkflow", sandboxed=False)
class DeprecatedB(GenerationWorkflowB):
    """The release after the drain (docs/deploy.md, step 5): the pause under ``deprecate_patch``, alone."""

    @workflow.run
    async def run(self, request: GenerationRequest) -> GenerationResult:
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
        if success:
            workflow.deprecate_patch(LATE)
            await workflow.sleep(PAUSE, summary="version B: a pause before charging")
        return await GenerationWorkflow._settle(
            self, success=success, outcome=outcome, reason=reason, detail=detail, task_id=task_id, files=files
        )


class Cli:
    """Runbook lines in bash, ``temporal`` on PATH and pointed at the harness' dev server."""

    def __init__(self, h: Harness) -> None:
        cli = Path(temporal_cli())
        self.env = {
            **os.environ,
            "PATH": f"{cli.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{h.stack.ports.temporal}",
            "TEMPORAL_NAMESPACE": h.client.namespace,
        }

    async def run(self, line: str, workflow_id: str = EXAMPLE_ID, **env: str) -> str:
        """Runs ``line`` with ``env`` set and this run's patch id and ``workflow_id`` for the examples."""
        assert line in RUNBOOK, f"not in docs/runbook.md verbatim: {line}"
        line = line.replace("pause-before-charge", LATE).replace(EXAMPLE_ID, workflow_id)
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            line,
            env=self.env | env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, f"{line}\n{err.decode()}"
        return out.decode()

    async def total(self, line: str, want: int, **env: str) -> str:
        """``temporal workflow count`` until it says ``want`` (visibility is eventually consistent)."""
        out = ""
        for _ in range(50):
            out = await self.run(line, **env)
            if out.strip() == f"Total: {want}":
                break
            await asyncio.sleep(0.1)
        return out.strip()


def a_pid_still_polling(run: UpgradeRun, identities: Iterable[str]) -> bool:
    return any(run.versions.get(int(i.split("@")[0])) == "A" for i in identities)


@pytest.mark.timeout(150)
async def test_a_rolling_upgrade_finishes_every_generation_of_a_and_none_fails_a_replay(
    pg_server_url: str,
) -> None:
    _, database_url = await create_database(pg_server_url, "upgrade")
    seen: dict[str, str] = {}
    async with Harness.start(
        prefix="genflow-upgrade-test-",
        processes=("worker", "telegram-worker", "webhooks"),
        database_url=database_url,
        replicas=2,
    ) as h:
        cli = Cli(h)

        async def observe(stage: str, run: UpgradeRun) -> None:
            if stage == "mixed":  # the operator sees both versions poll the queue
                seen["pollers"] = await cli.run(POLLERS)
            if stage == "deployed":  # ...and the generations of A still to drain
                assert run.deployed_at is not None
                deployed_at = f"{run.deployed_at:%Y-%m-%dT%H:%M:%SZ}"
                seen["drain"] = await cli.total(DRAIN, DRAINING, DEPLOYED_AT=deployed_at)
                seen["drain_list"] = await cli.run(DRAIN_LIST, DEPLOYED_AT=deployed_at)

        run = await run_upgrade(h, PLAN, say=lambda _text: None, observe=observe)
        checks, figures = await judge(h, run)
        closed, histories = await collect(h, run)
        took_late = sum(LATE in c.patches for c in closed)
        seen["patched"] = await cli.total(PATCHED, took_late)
        seen["problems"] = await cli.run(PROBLEMS)
        example = next(c for c in closed if c.started_on == "A" and c.finished == "after")
        seen["finished_by"] = await cli.run(FINISHED_BY, example.id)
        seen["task_failures"] = await cli.run(TASK_FAILURES, example.id)
        b_pids = [pid for pid, version in run.versions.items() if version == "B"]

    report = "\n".join(f"{c.status:7} {c.name}: {c.detail}" for c in checks)
    assert not failed(checks), f"{report}\nfigures: {figures}"
    assert figures["started_on_a"] == PLAN.generations and figures["failed"] == 0, figures
    assert figures["completed_on_a"] >= PLAN.finish_before and figures["completed_on_b"] >= DRAINING, figures
    assert figures["workflow_task_failures"] == 0 and figures["replay_failures"] == 0, figures

    # Mid-deploy, `temporal task-queue describe` lists a B replica and the A replica still serving.
    pollers = [
        line.split()[2] for line in seen["pollers"].splitlines() if line.strip().startswith("UNVERSIONED")
    ]
    assert any(p.startswith(f"{b_pids[0]}@") for p in pollers), seen["pollers"]
    assert a_pid_still_polling(run, pollers), seen["pollers"]
    # Once deployed, the drain is the generations of A still waiting for KIE; all of them are listed.
    assert seen["drain"] == f"Total: {DRAINING}", seen
    assert seen["drain_list"].count("GenerationWorkflow") == DRAINING, seen["drain_list"]
    # TemporalChangeVersion counts the generations that took the new step: A's drained ones and B's.
    assert seen["patched"] == f"Total: {took_late}" and took_late >= DRAINING + PLAN.started_on_b, seen
    assert "GenerationWorkflow" not in seen["problems"], seen["problems"]
    assert seen["finished_by"].split("@")[0] in {str(p) for p in b_pids}, seen["finished_by"]
    assert seen["task_failures"].strip() == "0", seen["task_failures"]

    # The guard is what makes this work: without it, every history that passed the step fails to replay.
    of_a = {c.id for c in closed if c.started_on == "A"}
    unguarded = await replay_failures([x for x in histories if x.workflow_id in of_a], UnguardedB)
    assert len(unguarded) == PLAN.generations, unguarded
    # And why the old branch stays until the drain: once it is gone, the histories that took the pause still
    # replay, those that charged without it (finished on A) no longer do.
    paused = {c.id for c in closed if LATE in c.patches}
    deprecated = await replay_failures(histories, DeprecatedB)
    failing = {x.workflow_id for x in histories if x.run_id in deprecated}
    assert failing == {c.id for c in closed} - paused and paused, (failing, paused)
