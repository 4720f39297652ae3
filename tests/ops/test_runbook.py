"""Every visibility query and operator command in docs/runbook.md, run with the real `temporal` CLI against a
dev server holding real GenerationWorkflows (activities faked): the runbook's strings are checked verbatim,
with its example values swapped for this test's ids."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.models import GenerationRequest, GenerationResult, Outcome, Stage
from db import Ledger, check_invariant
from genflow.embedded import temporal_cli
from tests.workflows.fakes import FakeTask, FakeWorld
from workflows.generation import GenerationWorkflow
from workflows.starter import start_generation

RUNBOOK = (Path(__file__).resolve().parents[2] / "docs" / "runbook.md").read_text()

# The runbook's example values, replaced by this test's.
EXAMPLE_USER = "123456789"
EXAMPLE_MODEL = "google/nano-banana"
EXAMPLE_TASK = "3f9c2a7e61d04b8a"
EXAMPLE_WORKFLOW = "gen-123456789-5f2a9c1e7d3b"

FIFTEEN_MINUTES_AGO = "$(date -u -d '15 minutes ago' +%Y-%m-%dT%H:%M:%SZ)"
ONE_HOUR_AGO = "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)"

LIST = "temporal workflow list --query"
Q_STUCK_WAITING = (
    f"{LIST} \"WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running' "
    f"AND GenerationStage = 'waiting_kie' AND StartTime < '{FIFTEEN_MINUTES_AGO}'\""
)
Q_RUNNING_BY_STAGE = (
    f"{LIST} \"WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running' "
    "AND GenerationStage = 'waiting_kie'\""
)
Q_BY_USER = f"{LIST} \"TelegramUserId = '{EXAMPLE_USER}'\""
Q_BY_MODEL_RUNNING = f"{LIST} \"KieModel = '{EXAMPLE_MODEL}' AND ExecutionStatus = 'Running'\""
Q_BY_TASK = f"{LIST} \"KieTaskId = '{EXAMPLE_TASK}'\""
Q_FAILED_LAST_HOUR = (
    f"{LIST} \"WorkflowType = 'GenerationWorkflow' AND GenerationStage = 'failed' "
    f"AND CloseTime > '{ONE_HOUR_AGO}'\""
)
Q_CANCELLED = f"{LIST} \"WorkflowType = 'GenerationWorkflow' AND GenerationStage = 'cancelled'\""
Q_MONEY_IN_FLIGHT = (
    f"{LIST} \"WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running' "
    f"AND GenerationStage = 'validating' AND StartTime < '{FIFTEEN_MINUTES_AGO}'\""
)
Q_BROKEN = (
    f"{LIST} \"WorkflowType = 'GenerationWorkflow' "
    "AND ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut')\""
)
Q_COUNT_RUNNING = (
    "temporal workflow count --query \"WorkflowType = 'GenerationWorkflow' AND ExecutionStatus = 'Running'\""
)
C_DESCRIBE = f"temporal workflow describe --workflow-id {EXAMPLE_WORKFLOW}"
C_STATUS = f"temporal workflow query --workflow-id {EXAMPLE_WORKFLOW} --name status"
C_HISTORY = f"temporal workflow show --workflow-id {EXAMPLE_WORKFLOW}"
C_POLL_NOW = f"temporal workflow signal --workflow-id {EXAMPLE_WORKFLOW} --name poll_now"
C_CANCEL = f"temporal workflow update execute --workflow-id {EXAMPLE_WORKFLOW} --name cancel"
C_RESET = (
    f"temporal workflow reset --workflow-id {EXAMPLE_WORKFLOW} --type LastWorkflowTask "
    '--reason "fixed bug: retry the failed workflow task"'
)
C_RETRY_DELIVERY = (
    f'temporal workflow reset --workflow-id {EXAMPLE_WORKFLOW} --reason "retry delivery" --event-id '
    f'"$(temporal workflow show --workflow-id {EXAMPLE_WORKFLOW} --output json | jq -r '
    '\'[.events[] | select(.activityTaskScheduledEventAttributes.activityType.name == "deliver_result")][0]'
    ".activityTaskScheduledEventAttributes.workflowTaskCompletedEventId')\""
)
C_SCHEDULE = "temporal schedule describe --schedule-id kie-credits"
C_SHELL_FUNCTION = 'temporal() { docker compose run --rm -T temporal-cli "$@"; }'

DOCUMENTED = [
    Q_STUCK_WAITING,
    Q_RUNNING_BY_STAGE,
    Q_BY_USER,
    Q_BY_MODEL_RUNNING,
    Q_BY_TASK,
    Q_FAILED_LAST_HOUR,
    Q_CANCELLED,
    Q_MONEY_IN_FLIGHT,
    Q_BROKEN,
    Q_COUNT_RUNNING,
    C_DESCRIBE,
    C_STATUS,
    C_HISTORY,
    C_POLL_NOW,
    C_CANCEL,
    C_RESET,
    C_RETRY_DELIVERY,
    C_SCHEDULE,
    C_SHELL_FUNCTION,
]
REFUND = re.search(r"python - <<'PY'\n(.*?)\nPY\n", RUNBOOK, re.S)


class World(FakeWorld):
    """FakeWorld with task ids unique across the session's dev server (other suites use task-1, ...)."""

    def new_task(self) -> FakeTask:
        task = FakeTask(uuid.uuid4().hex[:16])
        self.tasks[task.task_id] = task
        return task


@dataclass
class Shell:
    env: dict[str, str]

    async def run(self, line: str, values: dict[str, str] | None = None) -> str:
        """Run a runbook line in bash (``temporal`` on PATH, TEMPORAL_ADDRESS set); returns its stdout."""
        for example, actual in (values or {}).items():
            line = line.replace(example, actual)
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            line,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, f"{line}\n{err.decode()}"
        return out.decode()

    async def ids(self, line: str, values: dict[str, str] | None = None) -> set[str]:
        out = await self.run(line + " --output json", values)
        return {row["execution"]["workflowId"] for row in json.loads(out or "[]")}

    async def eventually(self, line: str, values: dict[str, str], want: set[str]) -> set[str]:
        """Visibility is eventually consistent: ask until ``want`` shows up (or give up after ~5 s)."""
        found: set[str] = set()
        for _ in range(50):
            found = await self.ids(line, values)
            if want <= found:
                break
            await asyncio.sleep(0.1)
        return found


@pytest.fixture
async def shell(temporal_dev: WorkflowEnvironment) -> AsyncIterator[Shell]:
    cli = Path(temporal_cli())
    env = {
        **os.environ,
        "PATH": f"{cli.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TEMPORAL_ADDRESS": temporal_dev.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": temporal_dev.client.namespace,
    }
    yield Shell(env)


async def stage_of(handle: WorkflowHandle) -> Stage:
    return (await handle.query(GenerationWorkflow.status)).stage


async def until_stage(handle: WorkflowHandle, stage: Stage) -> None:
    for _ in range(300):
        if await stage_of(handle) == stage:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{handle.id} never reached {stage}")


def test_every_command_is_in_the_runbook_verbatim():
    missing = [line for line in DOCUMENTED if line not in RUNBOOK]
    assert not missing, "\n".join(missing)


async def test_runbook_queries_and_commands_against_real_generations(
    temporal_dev: WorkflowEnvironment, shell: Shell
):
    client = temporal_dev.client
    world, slow_world = World(client=client), World(client=client)
    slow_world.media_fields = ["image"]
    slow_world.prepare_gate = asyncio.Event()  # never set: that generation waits in "preparing"
    queue, slow_queue = f"runbook-{uuid.uuid4().hex[:8]}", f"runbook-slow-{uuid.uuid4().hex[:8]}"
    user, other_user = str(700_000_000 + uuid.uuid4().int % 99_999_999), str(uuid.uuid4().int % 10**9)

    async def start(user_id: str, queue: str, model: str = EXAMPLE_MODEL, **inputs: str) -> WorkflowHandle:
        request = GenerationRequest(
            user_id=int(user_id),
            chat_id=int(user_id),
            request_key=uuid.uuid4().hex[:12],
            model_id=model,
            inputs={"prompt": "a lighthouse", **inputs},
        )
        return await start_generation(client, request, task_queue=queue)

    async with world.running(client, queue), slow_world.running(client, slow_queue):
        waiting = await start(user, queue)
        failing = await start(user, queue)
        succeeding = await start(other_user, queue, model="flux-kontext-pro")
        cancelled = await start(other_user, slow_queue, image="file-id")
        terminated = await start(other_user, queue)
        for handle in (waiting, failing, succeeding, terminated):
            await until_stage(handle, Stage.WAITING)
        await until_stage(cancelled, Stage.PREPARING)

        def wid(handle: WorkflowHandle) -> dict[str, str]:
            return {EXAMPLE_WORKFLOW: handle.id, EXAMPLE_USER: user}

        # Poll now: KIE has finished; the signal makes the workflow look without waiting for its timer.
        world.blocked = True  # the user blocked the bot: charged, not delivered
        for handle, state in ((failing, "failed"), (succeeding, "succeeded")):
            task_id = (await handle.query(GenerationWorkflow.status)).task_ids[0]
            world.tasks[task_id].state = state
            await shell.run(C_POLL_NOW, wid(handle))
        assert (await failing.result()).outcome == Outcome.FAILED
        undelivered = await succeeding.result()
        assert undelivered.outcome == Outcome.SUCCEEDED and not undelivered.delivered

        # Retry the delivery once the user unblocked the bot: only deliver_result runs again.
        world.blocked = False
        await shell.run(C_RETRY_DELIVERY, wid(succeeding))
        rerun = client.get_workflow_handle(succeeding.id, result_type=GenerationResult)
        assert (await rerun.result()).delivered
        assert len(world.deliveries) == 1
        assert [m[0] for m in world.movements if m[1] == succeeding.id] == ["hold", "charge"]

        # Cancel (accepted while preparing inputs) and a refused cancel (already waiting on KIE).
        await shell.run(C_CANCEL, wid(cancelled))
        assert (await cancelled.result()).outcome == Outcome.CANCELLED
        refused = await asyncio.create_subprocess_exec(
            "bash", "-c", C_CANCEL.replace(EXAMPLE_WORKFLOW, waiting.id), env=shell.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await refused.communicate()
        assert refused.returncode != 0 and b"too late to cancel" in out

        await terminated.terminate(reason="runbook test: what a terminated generation looks like")

        status = json.loads(await shell.run(C_STATUS + " --output json", wid(waiting)))
        assert status["queryResult"][0]["stage"] == "waiting_kie"
        assert waiting.id in await shell.run(C_DESCRIBE, wid(waiting))
        assert "ActivityTaskCompleted" in await shell.run(C_HISTORY, wid(waiting))

        # --- the saved queries ------------------------------------------------------------------------
        waiting_task = (await waiting.query(GenerationWorkflow.status)).task_ids[0]
        values = {EXAMPLE_USER: user, EXAMPLE_TASK: waiting_task}
        in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        as_if_old = {**values, FIFTEEN_MINUTES_AGO: in_an_hour}

        assert waiting.id in await shell.eventually(Q_RUNNING_BY_STAGE, values, {waiting.id})
        # Started just now, so not "waiting for more than 15 minutes"; it is once the cut-off is later.
        assert waiting.id in await shell.eventually(Q_STUCK_WAITING, as_if_old, {waiting.id})
        assert waiting.id not in await shell.ids(Q_STUCK_WAITING, values)
        assert await shell.eventually(Q_BY_USER, values, {waiting.id, failing.id}) == {waiting.id, failing.id}
        by_model = await shell.eventually(Q_BY_MODEL_RUNNING, values, {waiting.id})
        assert waiting.id in by_model and failing.id not in by_model and succeeding.id not in by_model
        assert await shell.eventually(Q_BY_TASK, values, {waiting.id}) == {waiting.id}
        failed = await shell.eventually(Q_FAILED_LAST_HOUR, values, {failing.id})
        assert failing.id in failed and succeeding.id not in failed and waiting.id not in failed
        assert cancelled.id in await shell.eventually(Q_CANCELLED, values, {cancelled.id})
        assert terminated.id in await shell.eventually(Q_BROKEN, values, {terminated.id})
        assert waiting.id not in await shell.ids(Q_MONEY_IN_FLIGHT, as_if_old)
        count = json.loads(await shell.run(Q_COUNT_RUNNING + " --output json"))
        assert int(count["count"]) >= 1

        # Reset to the last workflow task: a new run that keeps the completed steps (nothing held twice).
        await shell.run(C_RESET, wid(waiting))
        new_run = client.get_workflow_handle(waiting.id, result_type=GenerationResult)  # the latest run
        assert (await new_run.describe()).run_id != waiting.result_run_id
        await until_stage(new_run, Stage.WAITING)
        world.tasks[waiting_task].state = "succeeded"
        await shell.run(C_POLL_NOW, wid(waiting))
        assert (await new_run.result()).outcome == Outcome.SUCCEEDED
        mine = [m for m in world.movements if m[1] == waiting.id]
        assert [kind for kind, _, _ in mine] == ["hold", "charge"]


async def test_the_interim_refund_snippet_refunds_once(migrated_database_url: str, db_pool):
    assert REFUND, "the refund snippet is missing from the runbook"
    ledger = Ledger(db_pool)
    user = 900_000_000 + uuid.uuid4().int % 99_999_999
    gid = f"gen-{user}-{uuid.uuid4().hex[:12]}"
    await ledger.ensure_user(user, language="en")
    await ledger.credit(user, 100, key=f"topup:{gid}", kind="topup", reason="test")
    await ledger.hold(user, 4, key=f"hold:{gid}", generation_id=gid)
    await ledger.charge(hold_key=f"hold:{gid}", key=f"charge:{gid}")
    code = REFUND[1].replace(EXAMPLE_WORKFLOW, gid).replace(EXAMPLE_USER, str(user))
    env = {**os.environ, "DATABASE_URL": migrated_database_url}
    for _ in range(2):  # idempotent: a second run changes nothing
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-", env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate(code.encode())
        assert process.returncode == 0, out.decode()
        assert b"balance now 100" in out
    kinds = sorted(m.kind for m in await ledger.recent_movements(user, limit=10))
    assert kinds == ["charge", "hold", "refund", "topup"]
    assert await check_invariant(db_pool) == []


async def test_the_bot_updates_query_finds_a_taken_over_claim(db_pool):
    """The runbook's bot_updates query ("Several replicas") runs on the real schema and shows an update whose
    claim another replica took over, and not one handled once."""
    blocks = re.findall(r"```sql\n(.*?)```", RUNBOOK, re.S)
    query = next(b for b in blocks if "FROM bot_updates" in b)
    bot = 900_000_000 + uuid.uuid4().int % 99_999_999
    await db_pool.execute(
        "INSERT INTO bot_updates (bot_id, update_id, claims, finishes, done_at) VALUES "
        "($1, 1, 1, 1, now()), ($1, 2, 2, 1, now())",
        bot,
    )
    rows = await db_pool.fetch(query)
    assert [r["update_id"] for r in rows if r["bot_id"] == bot] == [2], rows
