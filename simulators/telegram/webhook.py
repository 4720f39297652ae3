"""Webhook delivery: POST each pending update to the bot, in order, until it answers 2xx."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import suppress
from typing import TYPE_CHECKING

import aiohttp

from .models import PendingUpdate, Webhook
from .params import Params, read_multipart

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)


class WebhookWorker:
    """One delivery at a time (max_connections=1): deterministic order, easy to reason about."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._task: asyncio.Task[None] | None = None

    def restart(self) -> None:
        self.stop_soon()
        self._task = asyncio.create_task(self._run(), name="telegram-sim-webhook")

    def stop_soon(self) -> None:
        # A method executed from a webhook reply may delete the webhook: don't cancel ourselves.
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        state = self.engine.state
        failures = 0
        while not state.notifier.closed and (hook := state.webhook) is not None:
            pending = state.deliverable_updates(hook.allowed_updates, 1)
            if not pending:
                await state.notifier.wait(30)
                continue
            update = pending[0]
            error = await self._deliver(hook, update)
            if state.webhook is not hook:
                continue
            if error is None:
                failures = 0
                if update in state.updates:
                    state.updates.remove(update)
                continue
            # Telegram keeps retrying with growing pauses and shows the error in getWebhookInfo.
            hook.last_error_date, hook.last_error_message = int(time.time()), error
            delays = self.engine.config.webhook_retry_delays or (1.0,)
            await asyncio.sleep(delays[min(failures, len(delays) - 1)])
            failures += 1

    async def _deliver(self, hook: Webhook, update: PendingUpdate) -> str | None:
        """None when delivered; otherwise what getWebhookInfo.last_error_message shows."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        timeout = aiohttp.ClientTimeout(total=self.engine.config.webhook_timeout)
        try:
            async with self.engine.http.post(
                hook.url, data=json.dumps(update.to_api()), headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                reply = await _read_reply(response)
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as error:
            return f"Connection failed: {error}"
        if reply is not None:
            # The bot may answer an update with one method call in the response body.
            method = reply.get_str("method") or ""
            await self.engine.execute(hook.token, method, reply, via="webhook_reply")
        return None


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
