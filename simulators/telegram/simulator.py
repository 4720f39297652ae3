"""TelegramSimulator: the server plus direct Python access for tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from . import actions
from .actions import Upload
from .app import build_app, build_webchat_app
from .config import SimulatorConfig
from .engine import Engine
from .faults import ChaosRule, Fault
from .models import JSON, CallRecord, MediaKind
from .views import ChatView, chat_view

log = logging.getLogger(__name__)


class TelegramSimulator:
    """A fake Bot API server for the real aiogram client.

    >>> async with TelegramSimulator() as sim:
    ...     bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(sim.url)))
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.engine = Engine(self.config)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._webchat_runner: web.AppRunner | None = None
        self._webchat_url: str | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0: any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        self.engine.state.notifier.closed = False  # after a stop(), start() serves again
        # Long polls end at shutdown anyway; don't let aiohttp wait a minute for them.
        runner = web.AppRunner(build_app(self.engine), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._url = f"http://{_url_host(bound_host)}:{bound_port}"
        self.engine.base_url = self.config.public_url or self._url
        log.info("Telegram Bot API simulator listening on %s", self._url)
        if self.config.webchat_port is not None:
            try:
                await self._start_webchat(self.config.webchat_host or host, self.config.webchat_port)
            except BaseException:
                await self.stop()
                raise
        log.info("Local web chat on %s", self.webchat_url)
        return self._url

    async def _start_webchat(self, host: str, port: int) -> None:
        runner = web.AppRunner(build_webchat_app(self.engine), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        self._webchat_runner = runner
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._webchat_url = f"http://{_url_host(bound_host)}:{bound_port}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        webchat, self._webchat_runner, self._webchat_url = self._webchat_runner, None, None
        await self.engine.close()
        if webchat is not None:
            await webchat.cleanup()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> TelegramSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the simulator is not started")
        return self._url

    @property
    def webchat_url(self) -> str:
        """The local web chat page: on its own port when configured, else under the simulator's URL."""
        return f"{self._webchat_url or self.url}/chat"

    def reset(self, seed: int | None = None) -> None:
        """Forget users, chats, files, updates, payments, calls and faults (config stays)."""
        self.engine.reset(seed)

    # ---- reading -----------------------------------------------------------------------------------

    def chat(self, chat_id: int) -> ChatView:
        state = self.engine.state
        chat = state.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"no chat {chat_id}")
        return chat_view(chat, list(state.callbacks.values()), self.engine.base_url)

    @property
    def calls(self) -> list[CallRecord]:
        return list(self.engine.state.calls)

    def calls_to(self, method: str) -> list[CallRecord]:
        return [call for call in self.engine.state.calls if call.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> list[JSON]:
        return [update.to_api() for update in self.engine.state.updates]

    async def wait_for(self, condition: Callable[[], Any], within: float = 5.0) -> None:
        """Wait until ``condition()`` holds (checked on every state change); TimeoutError otherwise."""
        if not await self.engine.state.notifier.wait_until(condition, within):
            raise TimeoutError(f"condition not met within {within} s")

    # ---- acting as users ---------------------------------------------------------------------------

    def add_user(self, user_id: int, **profile: Any) -> JSON:
        """Create/update a user (first_name, last_name, username, language_code)."""
        return self.engine.state.ensure_user(user_id, **profile).to_api()

    def inject_message(self, user_id: int, text: str, **profile: Any) -> JSON:
        """The user sends text; returns the update (entities like bot_command are detected)."""
        return actions.send_message(self.engine.state, user_id, text, profile=profile)

    def inject_file(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        filename: str = "file",
        kind: MediaKind | None = None,
        file_id: str | None = None,
        caption: str | None = None,
    ) -> JSON:
        """The user sends a photo/document/video/audio/voice (new bytes or a known file_id)."""
        upload = Upload(data, filename, kind) if data is not None else None
        return actions.send_message(
            self.engine.state, user_id, upload=upload, file_id=file_id, kind=kind, caption=caption
        )

    def press(self, user_id: int, message_id: int, data: str, *, force: bool = False) -> JSON:
        """The user taps the inline button carrying ``data``; returns the callback_query update."""
        return actions.press_button(self.engine.state, user_id, message_id, data, force=force)

    def pay(
        self,
        user_id: int,
        message_id: int | None = None,
        *,
        invoice_link: str | None = None,
        duplicates: int = 0,
    ) -> JSON:
        """The user pays an invoice; returns the pre_checkout_query update."""
        return actions.pay(
            self.engine.state,
            user_id,
            message_id=message_id,
            invoice_link=invoice_link,
            duplicates=duplicates,
        )

    def block(self, user_id: int) -> None:
        actions.set_blocked(self.engine.state, user_id, True)

    def unblock(self, user_id: int) -> None:
        actions.set_blocked(self.engine.state, user_id, False)

    # ---- faults ------------------------------------------------------------------------------------

    def queue_fault(
        self,
        error_code: int,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        html: bool = False,
        deliver: bool = False,
        delay: float = 0.0,
    ) -> Fault:
        """Answer the next matching call(s) with this error instead of running them."""
        fault = Fault(error_code, description, retry_after, method, chat_id, times, html, deliver, delay)
        self.engine.faults.queue(fault)
        return fault

    def set_chaos(
        self, rules: list[tuple[float, Fault]], *, seed: int | None = None, methods: list[str] | None = None
    ) -> None:
        """Random faults: ``[(0.1, Fault(429, retry_after=1)), (0.05, Fault(500))]`` with a seeded RNG."""
        self.engine.faults.set_chaos([ChaosRule(share, fault) for share, fault in rules], seed, methods)

    def clear_faults(self) -> None:
        self.engine.faults.clear()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
