"""Runs Bot API calls: token check, injected faults, the method itself, the call log."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from contextlib import suppress
from typing import Any

import aiohttp
from aiohttp import web

from .config import SimulatorConfig
from .errors import ApiError, not_found, unauthorized
from .faults import FaultInjector
from .methods import METHODS, Ctx
from .models import BotIdentity
from .params import Params
from .state import SimState
from .webhook import WebhookWorker

log = logging.getLogger(__name__)

ENGINE: web.AppKey[Engine] = web.AppKey("telegram_sim_engine")
TOKEN = re.compile(r"(\d{1,20}):[A-Za-z0-9_-]{1,100}")


class Engine:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimState(config)
        self.faults = FaultInjector(seed=config.seed, flood=config.flood)
        self.webhooks = WebhookWorker(self)
        self.base_url = config.public_url or ""
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """Outgoing HTTP: fetching media by URL, posting to webhooks."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        self.state.notifier.closed = True
        self.state.notifier.notify()  # long polls return now instead of at their timeout
        await self.webhooks.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def reset(self, seed: int | None = None) -> None:
        self.webhooks.stop_soon()
        self.webhooks.deliveries.clear()
        self.faults.clear()
        self.state.clear(seed)

    def identity(self, token: str) -> BotIdentity | None:
        match = TOKEN.fullmatch(token)
        if match is None:
            return None
        own = self.config.token is None or token == self.config.token
        if not own and not self.config.accept_any_token:
            return None
        bot_id = int(match.group(1))
        if own:
            return BotIdentity(bot_id, self.config.bot_username, self.config.bot_first_name)
        return BotIdentity(bot_id, f"sim_{bot_id}_bot", f"Bot {bot_id}")

    async def execute(self, token: str, method: str, params: Params, *, via: str = "http") -> web.Response:
        started = time.monotonic()
        entry = METHODS.get(method.lower())
        name = entry[0] if entry else method
        log_fields: dict[str, Any] = {"method": name, "params": params.summary(), "via": via}

        def done(ok: bool, **outcome: Any) -> None:
            duration = round((time.monotonic() - started) * 1000, 2)
            self.state.record_call(ok=ok, duration_ms=duration, **log_fields, **outcome)

        try:
            bot = self.identity(token)
            if bot is None:
                raise unauthorized()
            if entry is None:
                raise not_found()
            ctx = Ctx(self, bot, token, params)
            picked = self.faults.pick(name, _chat_of(params))
            if picked is not None:
                fault, source = picked
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.deliver:  # the call happens; only its answer is lost
                    with suppress(ApiError):
                        await entry[1](ctx)
                error = fault.error()
                done(False, error_code=error.error_code, description=error.description, fault=source)
                return fault.response()
            result = await entry[1](ctx)
        except ApiError as error:
            done(False, error_code=error.error_code, description=error.description)
            return web.json_response(error.envelope(), status=error.error_code)
        except Exception as error:  # a simulator bug: answer like Telegram's 500, keep the trace
            log.exception("telegram simulator failed in %s", name)
            failure = ApiError(500, f"Internal Server Error: {type(error).__name__}: {error}")
            done(False, error_code=500, description=failure.description)
            return web.json_response(failure.envelope(), status=500)
        done(True, result=result)
        return web.json_response({"ok": True, "result": result})


def _chat_of(params: Params) -> int | None:
    """The chat a call concerns, for faults aimed at one chat."""
    for name in ("chat_id", "user_id"):
        with suppress(ApiError):
            if (value := params.get_int(name)) is not None:
                return value
    return None
