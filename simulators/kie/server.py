"""``KieSimulator``: the aiohttp app that speaks KIE's wire format, with start/stop for tests and the CLI."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Self

from aiohttp import web

from simulators.kie.admin import AdminRoutes
from simulators.kie.config import KieSimConfig
from simulators.kie.engine import Engine
from simulators.kie.envelope import CONFIG_KEY, bearer_auth
from simulators.kie.families import FAMILIES
from simulators.kie.files import FileRoutes
from simulators.kie.tasks import SimTask

log = logging.getLogger("simulators.kie")

# Base64 uploads of ~10 MB files are ~14 MB of JSON; aiohttp's default body limit is 1 MB.
_MAX_BODY = 64 * 1024 * 1024


def build_app(engine: Engine) -> web.Application:
    app = web.Application(middlewares=[bearer_auth], client_max_size=_MAX_BODY)
    app[CONFIG_KEY] = lambda: engine.config
    for family in FAMILIES:
        app.add_routes(family(engine).routes())
    app.add_routes(FileRoutes(engine).routes())
    app.add_routes(AdminRoutes(engine).routes())
    return app


class KieSimulator:
    """A fake KIE (API + upload host + result files) on one port.

    >>> sim = KieSimulator(KieSimConfig(latency=0.1, seed=1))
    >>> base_url = await sim.start()          # http://127.0.0.1:<port>
    >>> ...                                   # point the KIE client at base_url
    >>> await sim.stop()
    """

    def __init__(self, config: KieSimConfig | None = None) -> None:
        self.engine = Engine(config or KieSimConfig())
        self.app = build_app(self.engine)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL of the running simulator (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("the simulator is not started")
        return self._url

    @property
    def config(self) -> KieSimConfig:
        return self.engine.config

    def configure(self, **patch: Any) -> KieSimConfig:
        """Change knobs at runtime, like ``POST /_sim/config``."""
        return self.engine.reconfigure(patch)

    @property
    def tasks(self) -> Mapping[str, SimTask]:
        """Read-only view of every task created so far, by task id."""
        return MappingProxyType(self.engine.tasks)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.engine.stats)

    async def wait_final(self, task_id: str) -> SimTask:
        """Until the task reaches its final state (wrap in ``asyncio.timeout`` to bound it)."""
        task = self.engine.tasks[task_id]
        await task.finished.wait()
        return task

    async def wait_settled(self, task_id: str) -> SimTask:
        """Until the task is final and every callback delivery (retries, duplicates, late ones) is over."""
        task = self.engine.tasks[task_id]
        await task.settled.wait()
        return task

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            raise RuntimeError("the simulator is already started")
        # Bind the socket ourselves so port=0 gives us the real port through public API.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound_port = sock.getsockname()[1]
        await self.engine.open()
        self._runner = web.AppRunner(self.app, access_log=log if log.isEnabledFor(logging.DEBUG) else None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._url = f"http://{_reachable(host)}:{bound_port}"
        self.engine.listen_url = self._url
        log.info("KIE simulator listening on %s (public URL %s)", self._url, self.engine.url_for(""))
        return self._url

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.engine.close()
        await self._runner.cleanup()
        self._runner = None
        log.info("KIE simulator stopped")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def _reachable(host: str) -> str:
    """A host clients can dial: a wildcard bind address is reached through loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
