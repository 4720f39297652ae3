"""The workflow worker's own view of its cache, read from its Prometheus endpoint, and RSS sampled beside it.

Temporal's SDK core exports ``temporal_sticky_cache_size`` (runs cached now), ``…_hit`` / ``…_miss`` (a
workflow task found its run cached, or had to fetch the whole history and replay it),
``…_total_forced_eviction`` and ``temporal_workflow_task_queue_poll_succeed`` (workflow tasks received).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field

import aiohttp

from testkit.memory import rss_mb

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)")
# The names we read; Prometheus adds ``_total`` to counters in some exporter versions, so both are accepted.
CACHE_SIZE = "temporal_sticky_cache_size"
CACHE_HIT = "temporal_sticky_cache_hit"
CACHE_MISS = "temporal_sticky_cache_miss"
FORCED_EVICTIONS = "temporal_sticky_cache_total_forced_eviction"
TASKS_RECEIVED = "temporal_workflow_task_queue_poll_succeed"
NAMES = (CACHE_SIZE, CACHE_HIT, CACHE_MISS, FORCED_EVICTIONS, TASKS_RECEIVED)


def parse(text: str) -> dict[str, float]:
    """Metric name → sum over its label sets (``_total`` dropped from counter names)."""
    sums: dict[str, float] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match or line.startswith("#"):
            continue
        name = match[1].removesuffix("_total")
        with contextlib.suppress(ValueError):
            sums[name] = sums.get(name, 0.0) + float(match[2])
    return sums


async def scrape(http: aiohttp.ClientSession, port: int) -> dict[str, float]:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    every = parse(text)
    return {name: every.get(name, 0.0) for name in NAMES}


@dataclass
class Sample:
    began: float  # wall clock (as history event times) when the scrape was sent
    at: float  # … and when it was answered: the counters were read in between
    rss_mb: float
    metrics: dict[str, float]


@dataclass
class Sampler:
    """RSS of the worker and its cache metrics every ``every`` seconds, in the background."""

    http: aiohttp.ClientSession
    port: int
    pid: int
    every: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def take(self) -> Sample:
        began = time.time()
        metrics = await scrape(self.http, self.port)
        sample = Sample(began, time.time(), rss_mb(self.pid), metrics)
        self.samples.append(sample)
        return sample

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await self.take()
            await asyncio.sleep(self.every)

    def read_before(self, name: str, moment: float) -> float | None:
        """A counter as last read before ``moment`` (None: no sample that early)."""
        earlier = [s for s in self.samples if s.at <= moment]
        return max(earlier, key=lambda s: s.at).metrics[name] if earlier else None

    def read_after(self, name: str, moment: float) -> float | None:
        """A counter as first read after ``moment`` (None: no sample that late yet)."""
        later = [s for s in self.samples if s.began >= moment]
        return min(later, key=lambda s: s.began).metrics[name] if later else None

    def rss_between(self, begin: float, end: float) -> list[float]:
        return [s.rss_mb for s in self.samples if begin <= s.at <= end]
