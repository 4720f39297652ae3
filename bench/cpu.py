"""Who used the machine's CPU while a benchmark phase ran: our processes, by name, and everyone else."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from testkit.harness import Harness


def cpu_share(h: Harness) -> CpuShare:
    """Start counting CPU time (ours by process, and everyone else's) from now."""
    roots = []
    if h.postgres is not None:
        with contextlib.suppress(Exception):
            roots.append(h.postgres.server.get_pid())
    return CpuShare(roots)


class CpuShare:
    """CPU time used on this machine while a phase ran: by our processes, and by everyone else.

    Benchmarks on a shared 2-core machine are only as good as the CPU they got; every phase records the
    share of the machine other people's processes took, so a figure measured next to someone's test run is
    flagged instead of silently wrong. Ours are this process's descendants and the PostgreSQL we started.
    """

    def __init__(self, extra_roots: Iterable[int] = ()) -> None:
        self.roots = {os.getpid(), *extra_roots}
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start_wall = time.monotonic()
        self.start = self._snapshot()

    @staticmethod
    def _processes() -> dict[int, tuple[int, int]]:
        table: dict[int, tuple[int, int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rfind(")") + 2 :].split()
            # fields[1] = ppid; fields[11..14] = utime, stime, cutime, cstime
            table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        return table

    def _snapshot(self) -> dict[int, tuple[bool, int]]:
        table = self._processes()
        ours: dict[int, bool] = {}

        def is_ours(pid: int) -> bool:
            seen = []
            while pid > 1 and pid not in ours:
                if pid in self.roots:
                    ours[pid] = True
                    break
                seen.append(pid)
                pid = table.get(pid, (0, 0))[0]
            result = ours.get(pid, False)
            for p in seen:
                ours[p] = result
            return result

        return {pid: (is_ours(pid), ticks) for pid, (_, ticks) in table.items()}

    def result(self) -> dict[str, Any]:
        end = self._snapshot()
        wall = time.monotonic() - self.start_wall
        used = {True: 0, False: 0}
        by_process: dict[str, float] = {}
        for pid, (mine, ticks) in end.items():
            before = self.start.get(pid, (mine, 0))[1]
            spent = max(0, ticks - before)
            used[mine] += spent
            if mine and spent:
                name = _process_name(pid)
                by_process[name] = by_process.get(name, 0.0) + spent / self.tick
        cores = os.cpu_count() or 1
        ours, others = used[True] / self.tick, used[False] / self.tick
        return {
            "wall_s": round(wall, 1),
            "our_cpu_s": round(ours, 1),
            "other_cpu_s": round(others, 1),
            "others_share_of_machine": round(others / max(wall * cores, 1e-9), 3),
            "our_cpu_s_by_process": {
                k: round(v, 1) for k, v in sorted(by_process.items(), key=lambda kv: -kv[1]) if v >= 0.1
            },
        }


def _process_name(pid: int) -> str:
    """A short name for one of our processes: worker, webhooks, temporal, postgres, bench, floor, ..."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "exited"
    words = [a.decode(errors="replace") for a in args if a]
    text = " ".join(words)
    for needle, name in (
        ("telegram_worker.py", "telegram-worker"),  # before worker.py, which it contains
        ("worker.py", "worker"),
        ("-m webhooks", "webhooks"),
        ("simulators.kie", "kie-simulator"),
        ("simulators.telegram", "telegram-simulator"),
        ("bench.floor_webhook", "floor-webhook"),
        ("bench.floor", "floor-worker"),
        ("temporal server", "temporal-server"),
        ("postgres", "postgres"),
    ):
        if needle in text:
            return name
    return "bench" if pid == os.getpid() else (Path(words[0]).name if words else "?")
