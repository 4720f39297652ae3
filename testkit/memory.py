"""Memory of one process, read from /proc (MiB)."""

from __future__ import annotations

from pathlib import Path


def rss_mb(pid: int) -> float:
    """Resident set size now."""
    return _status_mb(pid, "VmRSS:")


def hwm_mb(pid: int) -> float:
    """Peak resident set size over the process's life."""
    return _status_mb(pid, "VmHWM:")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field.rstrip(':')} for {pid}")
