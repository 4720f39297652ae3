"""What the unsandboxed GenerationWorkflow may import and call.

`GenerationWorkflow` runs with `sandboxed=False` (the sandbox cost a third of the worker's CPU per generation,
docs/performance.md). The sandbox would have refused wall-clock time, randomness, I/O and module state at run
time; this test refuses them in the source instead, and tests/test_replay.py replays recorded histories.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from temporalio import workflow

from workflows.generation import GenerationWorkflow

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
# The workflow module and the helpers it runs with, all outside the sandbox.
SOURCES = [
    WORKFLOWS / name
    for name in ("generation.py", "generation_steps.py", "kie_tasks.py", "timeline.py", "policies.py")
]
SOURCE = SOURCES[0]
ALLOWED_IMPORTS = {
    "__future__",
    "asyncio",
    "datetime",
    "typing",
    "collections.abc",
    "temporalio",
    "temporalio.common",
    "temporalio.exceptions",
    # Declarations only (names, models, typed stubs): no state, no I/O.
    "contracts",  # `from contracts import activities`: the typed activity stubs
    "contracts.generation",
    "contracts.models",
    "contracts.polling",  # the poll schedule (and the poll activity's code, which the workflow never runs)
    "contracts.queues",
    # The generation's own helpers, guarded here too.
    "workflows",
    "workflows.generation_steps",
    "workflows.kie_tasks",
    "workflows.policies",
    "workflows.timeline",
}
# Names whose use in a workflow breaks replay: the workflow API has a deterministic twin for each.
FORBIDDEN_NAMES = {"random", "uuid", "time", "os", "open", "print", "threading", "socket", "secrets"}
FORBIDDEN_ATTRIBUTES = {"now", "utcnow", "today", "sleep", "get_event_loop", "run_in_executor"}


def _tree() -> ast.Module:
    return ast.parse("\n".join(path.read_text(encoding="utf-8") for path in SOURCES))


def _imported(tree: ast.Module) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def _of_workflow(node: ast.Attribute) -> bool:
    """`workflow.now()` and friends are the deterministic twins."""
    return isinstance(node.value, ast.Name) and node.value.id == "workflow"


def test_runs_outside_the_sandbox_on_purpose():
    # If someone drops `sandboxed=False`, this guard no longer explains anything: keep them together.
    assert workflow._Definition.must_from_class(GenerationWorkflow).sandboxed is False


def test_imports_only_deterministic_modules():
    assert _imported(_tree()) <= ALLOWED_IMPORTS, _imported(_tree()) - ALLOWED_IMPORTS


def test_no_wall_clock_randomness_or_io():
    offenders = []
    for node in ast.walk(_tree()):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            offenders.append(f"line {node.lineno}: {node.id}")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES and not _of_workflow(node):
            offenders.append(f"line {node.lineno}: .{node.attr}")
    assert not offenders, offenders


def test_no_module_state_changed_at_run_time():
    offenders = [
        f"line {node.lineno}" for node in ast.walk(_tree()) if isinstance(node, ast.Global | ast.Nonlocal)
    ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    "snippet",
    ["import random\n", "x = datetime.now()\n", "time.sleep(1)\n", "global counter\n"],
)
def test_the_guard_catches_what_it_is_for(snippet: str, monkeypatch: pytest.MonkeyPatch):
    # The checks above would pass on an empty file too; show they fail on the things they look for.
    source = (
        SOURCE.read_text(encoding="utf-8")
        + "\n\ndef _bad():\n"
        + "".join(f"    {line}\n" for line in snippet.splitlines())
    )
    monkeypatch.setattr(f"{__name__}._tree", lambda: ast.parse(source))
    checks = [test_imports_only_deterministic_modules, test_no_wall_clock_randomness_or_io]
    checks.append(test_no_module_state_changed_at_run_time)
    failures = 0
    for check in checks:
        try:
            check()
        except AssertionError:
            failures += 1
    assert failures >= 1
