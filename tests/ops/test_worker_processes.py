"""The two worker processes: which activities each serves, and what the workflow worker keeps out.

Workflows call the typed stubs of ``contracts.activities`` and pick the queue; the contract says which
queue serves each (``SERVED_ON``); the workers register the implementations. A name called on a queue no
process serves would wait forever, so the three are compared here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from contracts import activities as contract
from contracts.queues import Queue

ROOT = Path(__file__).resolve().parents[2]
# How a call names its queue; an unknown function fails the scan loudly (KeyError) rather than guess.
QUEUE_FUNCTIONS = {"kie_task_queue": Queue.KIE, "telegram_task_queue": Queue.TELEGRAM}
SERVED_ON = {contract.name_of(stub): queue for stub, queue in contract.SERVED_ON.items()}


def _queue_of(node: ast.expr | None) -> Queue:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return QUEUE_FUNCTIONS[node.func.id]
    return Queue.MAIN


def _called_activities() -> dict[str, set[Queue]]:
    """Activity name → the queues workflows call it on (every stub reference in workflows/)."""
    calls: dict[str, set[Queue]] = {}
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name)):
                continue
            if first.value.id != "activities":
                continue
            queue = next((k.value for k in node.keywords if k.arg == "task_queue"), None)
            calls.setdefault(first.attr, set()).add(_queue_of(queue))
    return calls


def _registered(script: str) -> dict[Queue, set[str]]:
    """Queue → activity method names passed to ``Worker(activities=[...])`` in ``script``."""
    found: dict[Queue, set[str]] = {}
    for node in ast.walk(ast.parse((ROOT / script).read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Worker"):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        activities = keywords.get("activities")
        names = {e.attr for e in activities.elts if isinstance(e, ast.Attribute)} if activities else set()
        found.setdefault(_queue_of(keywords["task_queue"]), set()).update(names)
    return found


def test_every_activity_a_workflow_calls_is_called_on_the_queue_its_contract_names():
    calls = _called_activities()
    assert len(calls) >= 20  # the scan found the calls (a broken scan would pass vacuously)
    wrong = {name: queues for name, queues in calls.items() if queues != {SERVED_ON[name]}}
    assert not wrong, f"called on another queue than the contract's: {wrong}"
    assert set(calls) == set(SERVED_ON), "a contract no workflow calls, or a call with no contract"


def test_every_contract_is_served_on_its_queue_by_exactly_one_process():
    # Implementations are registered under their method name, which @implements holds to the contract's.
    served = _registered("worker.py")
    for queue, names in _registered("telegram_worker.py").items():
        assert queue is Queue.TELEGRAM, "the Telegram worker serves only the Telegram queue"
        assert not names & served.get(queue, set())
        served.setdefault(queue, set()).update(names)
    expected: dict[Queue, set[str]] = {}
    for name, queue in SERVED_ON.items():
        expected.setdefault(queue, set()).add(name)
    assert served == expected


def test_the_workflow_worker_never_imports_aiogram():
    # ≈160 MB per process (docs/performance.md): it belongs to the Telegram worker and the bot only.
    assert _aiogram_loaded_by("worker") is False
    assert _aiogram_loaded_by("telegram_worker") is True  # the probe does see aiogram when it is there


def _aiogram_loaded_by(module: str) -> bool:
    probe = f"import sys, {module}; print('aiogram' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"
