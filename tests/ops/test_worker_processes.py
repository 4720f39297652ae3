"""The two worker processes: which activities each serves, and what the workflow worker keeps out.

Workflows name activities by string and pick the queue (`workflows/queues.py`); the workers register them.
A name called on a queue no process serves would wait forever, so the two sides are compared here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# How a call names its queue; an unknown function fails the scan loudly (KeyError) rather than guess.
QUEUE_FUNCTIONS = {"kie_task_queue": "kie", "telegram_task_queue": "telegram"}


def _called_activities() -> dict[str, str]:
    """Activity name → queue kind ("main", "kie", "telegram") for every call in workflows/."""
    calls: dict[str, str] = {}
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("execute_activity", "start_activity", "execute_local_activity"):
                continue
            first = node.args[0] if node.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue  # e.g. admin.py's helper passing a name through: its callers are found instead
            queue = next((k.value for k in node.keywords if k.arg == "task_queue"), None)
            kind = "main"
            if isinstance(queue, ast.Call) and isinstance(queue.func, ast.Name):
                kind = QUEUE_FUNCTIONS[queue.func.id]
            calls[first.value] = kind
    # admin.py's `_money("adjust_credits", ...)` wraps execute_activity on the main queue.
    admin = ast.parse((ROOT / "workflows" / "admin.py").read_text(encoding="utf-8"))
    for node in ast.walk(admin):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_money":
            calls[node.args[0].value] = "main"  # type: ignore[attr-defined]
    return calls


def _registered(script: str) -> dict[str, set[str]]:
    """Queue kind → activity method names passed to ``Worker(activities=[...])`` in ``script``."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse((ROOT / script).read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Worker"):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        queue = keywords["task_queue"]
        kind = "main"
        if isinstance(queue, ast.Call) and isinstance(queue.func, ast.Name):
            kind = QUEUE_FUNCTIONS[queue.func.id]
        activities = keywords.get("activities")
        names = {e.attr for e in activities.elts if isinstance(e, ast.Attribute)} if activities else set()
        found.setdefault(kind, set()).update(names)
    return found


def test_every_activity_a_workflow_calls_is_served_on_the_queue_it_is_called_on():
    served = _registered("worker.py")
    for kind, names in _registered("telegram_worker.py").items():
        assert kind == "telegram", "the Telegram worker serves only the Telegram queue"
        served.setdefault(kind, set()).update(names)
    calls = _called_activities()
    assert len(calls) >= 20  # the scan found the calls (a broken scan would pass vacuously)
    missing = {name: kind for name, kind in calls.items() if name not in served.get(kind, set())}
    assert not missing, f"called but served on no process: {missing}"
    # And nothing is registered that no workflow calls (a leftover after a move).
    unused = {n for names in served.values() for n in names} - set(calls)
    assert not unused, unused


def test_the_workflow_worker_never_imports_aiogram():
    # ≈160 MB per process (docs/performance.md): it belongs to the Telegram worker and the bot only.
    assert _aiogram_loaded_by("worker") is False
    assert _aiogram_loaded_by("telegram_worker") is True  # the probe does see aiogram when it is there


def _aiogram_loaded_by(module: str) -> bool:
    probe = f"import sys, {module}; print('aiogram' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"
