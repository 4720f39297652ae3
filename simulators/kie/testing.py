"""Test helpers: a tiny HTTP server that records the callbacks the simulator (or KIE) sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class ReceivedCallback:
    path: str
    headers: Mapping[str, str]
    body: dict[str, Any]
    received_at: float  # wall clock
    answered: int  # the HTTP status the receiver answered

    @property
    def task_id(self) -> str | None:
        """Where KIE puts the task id differs per API: top-level, ``data.taskId`` or ``data.task_id``."""
        data = self.body.get("data") if isinstance(self.body.get("data"), dict) else {}
        return self.body.get("taskId") or data.get("taskId") or data.get("task_id")

    @property
    def callback_type(self) -> str | None:
        data = self.body.get("data")
        return data.get("callbackType") if isinstance(data, dict) else None


class CallbackReceiver:
    """Records every POST; can be told to answer errors for a while (to exercise KIE's retries)."""

    def __init__(self) -> None:
        self.received: list[ReceivedCallback] = []
        self._failures_left = 0
        self._failure_status = 500
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._base = ""

    def url(self, path: str = "/callback") -> str:
        return self._base + path

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` callbacks with ``status`` (-1 = forever)."""
        self._failures_left, self._failure_status = count, status

    async def start(self, host: str = "127.0.0.1") -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._base = f"http://{host}:{port}"
        return self._base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        status = 200
        if self._failures_left:
            status = self._failure_status
            self._failures_left -= 1 if self._failures_left > 0 else 0
        record = ReceivedCallback(request.path, dict(request.headers), body, time.time(), status)
        async with self._changed:
            self.received.append(record)
            self._changed.notify_all()
        return web.json_response({"received": status == 200}, status=status)

    def for_task(self, task_id: str, *, accepted_only: bool = True) -> list[ReceivedCallback]:
        return [
            cb for cb in self.received if cb.task_id == task_id and (cb.answered == 200 or not accepted_only)
        ]

    async def wait_for(
        self,
        task_id: str,
        count: int = 1,
        *,
        where: Callable[[ReceivedCallback], bool] = lambda cb: True,
        accepted_only: bool = True,
        seconds: float = 5.0,
    ) -> list[ReceivedCallback]:
        """Wait until ``count`` callbacks for ``task_id`` matching ``where`` have arrived; return them."""

        def matching() -> list[ReceivedCallback]:
            return [cb for cb in self.for_task(task_id, accepted_only=accepted_only) if where(cb)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), seconds)
        return matching()
