"""Webhook delivery as Telegram does it: POST each pending update to the bot until it answers 2xx.

Updates of one chat go one at a time, in order (the next waits until the one before was accepted); different
chats go in parallel, up to the webhook's ``max_connections``. A non-2xx answer, a timeout or a refused
connection is retried with growing pauses (``webhook_retry_delays``) and shows in getWebhookInfo. Every
attempt is recorded (``deliveries``: the control API's ``GET /_sim/webhook/deliveries``) with the answer and,
behind a load balancer, the ``X-Upstream`` header naming the replica that answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import suppress
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from .models import PendingUpdate, Webhook
from .params import Params, read_multipart

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)

MAX_DELIVERIES_KEPT = 200_000


@dataclass
class Delivery:
    """One attempt to deliver one update."""

    update_id: int
    lane: str  # the chat (or user) it belongs to: one attempt at a time per lane
    attempt: int
    at: float
    status: int | None  # the HTTP status, None when no answer came
    error: str | None  # what getWebhookInfo.last_error_message would show; None when accepted
    upstream: str | None  # X-Upstream of the answer (the replica behind a load balancer)
    seconds: float
    kind: str = ""  # the update type ("message", "callback_query", …; a paying message: "successful_payment")


def kind_of(update: PendingUpdate) -> str:
    payload = update.payload if isinstance(update.payload, dict) else {}
    return "successful_payment" if payload.get("successful_payment") else update.type


def lane_of(update: PendingUpdate) -> str:
    """Updates of one chat are delivered in order; ones without a chat by their user; the rest alone."""
    payload = update.payload if isinstance(update.payload, dict) else {}
    for path in (("chat", "id"), ("message", "chat", "id"), ("from", "id"), ("user", "id")):
        node: Any = payload
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int):
            return f"chat:{node}"
    return f"update:{update.update_id}"


class WebhookWorker:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._task: asyncio.Task[None] | None = None
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self.deliveries: list[Delivery] = []

    def restart(self) -> None:
        self.stop_soon()
        self._task = asyncio.create_task(self._run(), name="telegram-sim-webhook")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def stop_soon(self) -> None:
        # A method executed from a webhook reply may delete the webhook: don't cancel ourselves.
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None
        for lane in self._lanes.values():
            if lane is not asyncio.current_task():
                lane.cancel()
        self._lanes.clear()

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._lanes.values()) if t is not None]
        self._task = None
        self._lanes.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task

    def log(self) -> list[dict[str, Any]]:
        return [asdict(d) for d in self.deliveries]

    async def _run(self) -> None:
        state = self.engine.state
        while not state.notifier.closed and (hook := state.webhook) is not None:
            pending = state.deliverable_updates(hook.allowed_updates, 10**9)
            started = False
            seen: set[str] = set()
            for update in pending:
                lane = lane_of(update)
                if lane in seen:  # an earlier update of this chat is still pending: it goes first
                    continue
                seen.add(lane)
                if lane in self._lanes or len(self._lanes) >= max(1, hook.max_connections):
                    continue
                task = asyncio.create_task(self._lane(hook, lane, update), name=f"webhook-{lane}")
                self._lanes[lane] = task
                started = True
            if not started:
                await state.notifier.wait(30)

    async def _lane(self, hook: Webhook, lane: str, update: PendingUpdate) -> None:
        """Deliver one update, retrying until the bot accepts it or the webhook changes."""
        state = self.engine.state
        delays = self.engine.config.webhook_retry_delays or (1.0,)
        attempt = 0
        try:
            while state.webhook is hook and update in state.updates:
                attempt += 1
                began = time.monotonic()
                status, error, upstream = await self._post(hook, update)
                self._record(Delivery(update.update_id, lane, attempt, time.time(), status, error, upstream,
                                      round(time.monotonic() - began, 4), kind_of(update)))  # fmt: skip
                if error is None:
                    if update in state.updates:
                        state.updates.remove(update)
                    break
                # Telegram keeps retrying with growing pauses and shows the error in getWebhookInfo.
                hook.last_error_date, hook.last_error_message = int(time.time()), error
                await asyncio.sleep(delays[min(attempt - 1, len(delays) - 1)])
        finally:
            if self._lanes.get(lane) is asyncio.current_task():
                del self._lanes[lane]
            state.notifier.notify()

    def _record(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        del self.deliveries[:-MAX_DELIVERIES_KEPT]

    async def _post(self, hook: Webhook, update: PendingUpdate) -> tuple[int | None, str | None, str | None]:
        """(status, error, upstream); error is None when delivered."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        timeout = aiohttp.ClientTimeout(total=self.engine.config.webhook_timeout)
        try:
            async with self.engine.http.post(
                hook.url, data=json.dumps(update.to_api()), headers=headers, timeout=timeout
            ) as response:
                upstream = response.headers.get("X-Upstream")
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                    return response.status, error, upstream
                reply = await _read_reply(response)
        except TimeoutError:
            return None, "Read timeout expired", None
        except aiohttp.ClientError as error:
            return None, f"Connection failed: {error}", None
        if reply is not None:
            # The bot may answer an update with one method call in the response body.
            method = reply.get_str("method") or ""
            await self.engine.execute(hook.token, method, reply, via="webhook_reply")
        return response.status, None, upstream


async def _read_reply(response: aiohttp.ClientResponse) -> Params | None:
    if response.content_type == "multipart/form-data":
        params = await read_multipart(aiohttp.MultipartReader(response.headers, response.content))
    elif response.content_type == "application/json":
        try:
            body = await response.json()
        except ValueError:
            return None
        params = Params(body if isinstance(body, dict) else {})
    else:
        return None
    return params if params.has("method") else None
