"""Helper processes of a benchmark (the floor worker, the floor webhook), in sessions of their own."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python() -> str:
    return sys.executable


@contextlib.contextmanager
def child_process(args: list[str], *, ready_line: str | None = None, port: int | None = None):
    """A helper process of ours (floor worker, floor webhook) in its own session; stopped on exit."""
    from genflow.embedded import stop_process, wait_for_port

    process = subprocess.Popen(
        [python(), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE if ready_line else subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_VERBOSE") else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        if ready_line:
            assert process.stdout is not None
            line = process.stdout.readline()
            if ready_line not in line:
                raise RuntimeError(f"{args}: expected {ready_line!r}, got {line!r}")
        if port is not None:
            wait_for_port("127.0.0.1", port, timeout=30, process=process)
        yield process
    finally:
        stop_process(process)
