"""`python -m webhooks`: serve KIE callbacks.

Listens first, then connects: until Temporal and PostgreSQL are both reachable, ``/readyz`` and callbacks
answer 503 (KIE retries) while ``/healthz`` says the process is alive. Connecting is retried with a capped
backoff, so the order in which containers come up does not matter. On SIGTERM ``/readyz`` turns 503 at once,
requests in flight finish, then the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys

import asyncpg
from aiohttp import web
from temporalio.client import Client

from db import create_pool
from genflow.logs import setup_process_logging
from genflow.settings import Settings, get_settings
from genflow.temporal import connect_temporal
from webhooks.app import Backends, WebhookConfig, create_app

log = logging.getLogger("webhooks")

# Seconds between connection attempts while starting: quick at first, then every 10 s.
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# In-flight callbacks get this long to finish on shutdown (KIE waits 15 s for an answer).
SHUTDOWN_GRACE = 15.0


async def connect(settings: Settings, backends: Backends, stop: asyncio.Event) -> None:
    """Connect to Temporal and PostgreSQL, retrying until both answer (or we are told to stop)."""
    assert settings.database_url
    client: Client | None = None
    pool: asyncpg.Pool | None = None
    attempt = 0
    while not stop.is_set():
        try:
            if client is None:
                client = await connect_temporal(settings)
            if pool is None:
                pool = await create_pool(
                    settings.database_url, min_size=1, max_size=settings.database_pool_max
                )
            backends.connected(client, pool)
            log.info("connected to Temporal and PostgreSQL: ready")
            return
        except Exception as err:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            what = "Temporal" if client is None else "PostgreSQL"
            log.warning("%s not reachable yet (%s); retrying in %ss", what, type(err).__name__, delay)
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)


async def main() -> None:
    settings = get_settings()
    settings.require("database_url", "callback_secret")
    setup_process_logging("webhooks", settings)
    assert settings.database_url and settings.callback_secret
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    config = WebhookConfig(
        callback_secret=settings.callback_secret.get_secret_value(),
        kie_hmac_key=settings.kie_webhook_hmac_key.get_secret_value()
        if settings.kie_webhook_hmac_key
        else None,
        signature_window_seconds=settings.kie_webhook_window_seconds,
        max_body_bytes=settings.webhooks_max_body_bytes,
    )
    backends = Backends()
    runner = web.AppRunner(
        create_app(None, None, config, backends=backends), access_log=None, shutdown_timeout=SHUTDOWN_GRACE
    )
    await runner.setup()
    # The catalog and the modules are loaded for good: out of the collector's sight, a full collection no
    # longer walks them between two callbacks (the tail of the webhook's latency).
    gc.freeze()
    site = web.TCPSite(runner, settings.webhooks_host, settings.webhooks_port)
    await site.start()
    log.info("listening on %s:%s (not ready until connected)", settings.webhooks_host, settings.webhooks_port)

    connecting = asyncio.create_task(connect(settings, backends, stop))
    await stop.wait()
    backends.stop()
    log.info("stopping: finishing requests in flight")
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connecting
    await runner.cleanup()
    if backends.pool is not None:
        await backends.pool.close()
    log.info("webhooks stopped")


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
