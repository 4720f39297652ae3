"""Posting callbacks the way KIE does: JSON, optional HMAC headers, a few retries, then give up.

Duplicates, lateness and loss come from the task's plan. Nothing here may raise into the server:
every failure is logged, counted and recorded on the task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp

from kie.signature import kie_signature
from simulators.kie.config import KieSimConfig
from simulators.kie.tasks import CallbackRecord, SimTask

log = logging.getLogger("simulators.kie.callbacks")

# Gap between duplicate copies: KIE's duplicates come from its own retries, seconds apart; tests
# want them quick, so this is kept small but non-zero (the receiver sees distinct requests).
_DUPLICATE_GAP = 0.02


class CallbackSender:
    def __init__(self, config: Callable[[], KieSimConfig], stats: Counter[str]) -> None:
        self._config = config
        self._stats = stats
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        # One shared session for the simulator's lifetime (closed in close()).
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the simulator is not started")
        return self._session

    async def deliver(self, task: SimTask, label: str, body: dict[str, Any]) -> None:
        """Send one callback per the task's plan (delay, copies); returns when all copies are done."""
        if task.plan.callback_delay:
            await asyncio.sleep(task.plan.callback_delay)
        for copy in range(1, task.plan.callback_copies + 1):
            if copy > 1:
                self._stats["callbacks_duplicated"] += 1
                await asyncio.sleep(_DUPLICATE_GAP)
            await self._deliver_with_retries(task, label, body, copy)

    async def _deliver_with_retries(self, task: SimTask, label: str, body: dict[str, Any], copy: int) -> None:
        config = self._config()
        backoff = config.callback_backoff
        for attempt in range(1, config.callback_attempts + 1):
            record = CallbackRecord(label, copy, attempt, at_ms=int(time.time() * 1000))
            task.callbacks.append(record)
            self._stats["callback_attempts"] += 1
            try:
                record.status = await self._post(task, body, config)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                record.outcome, record.error = "error", f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= record.status < 300:
                    self._stats["callbacks_delivered"] += 1
                    return
                record.outcome = "rejected"
            self._stats["callback_failed_attempts"] += 1
            log.warning(
                "callback %s for %s (copy %d, attempt %d) failed: %s",
                label,
                task.task_id,
                copy,
                attempt,
                record.error or f"HTTP {record.status}",
            )
            if attempt < config.callback_attempts:
                await asyncio.sleep(backoff)
                backoff *= 2
        self._stats["callbacks_given_up"] += 1
        task.callbacks.append(
            CallbackRecord(label, copy, config.callback_attempts, int(time.time() * 1000), outcome="given_up")
        )
        log.warning(
            "callback %s for %s given up after %d attempts", label, task.task_id, config.callback_attempts
        )

    async def _post(self, task: SimTask, body: dict[str, Any], config: KieSimConfig) -> int:
        assert task.callback_url is not None
        headers = {}
        if config.webhook_hmac_key:
            # KIE signs taskId + "." + timestamp; the body itself is not signed.
            timestamp = int(time.time())
            headers["X-Webhook-Timestamp"] = str(timestamp)
            signature = kie_signature(config.webhook_hmac_key, task.callback_id, timestamp)
            headers["X-Webhook-Signature"] = signature
        timeout = aiohttp.ClientTimeout(total=config.callback_timeout)
        async with self.session.post(task.callback_url, json=body, headers=headers, timeout=timeout) as resp:
            await resp.read()
            return resp.status
