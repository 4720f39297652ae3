"""`python -m webhooks`: serve KIE callbacks."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from aiohttp import web

from db import create_pool
from genflow.logs import setup_logging
from genflow.settings import get_settings
from genflow.temporal import connect_temporal
from webhooks.app import WebhookConfig, create_app

log = logging.getLogger("webhooks")


async def main() -> None:
    settings = get_settings()
    settings.require("database_url", "callback_secret")
    setup_logging("webhooks", level=settings.log_level, json_lines=settings.log_json)
    assert settings.database_url and settings.callback_secret
    client = await connect_temporal(settings)
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.database_pool_max)
    config = WebhookConfig(
        callback_secret=settings.callback_secret.get_secret_value(),
        kie_hmac_key=settings.kie_webhook_hmac_key.get_secret_value()
        if settings.kie_webhook_hmac_key
        else None,
        signature_window_seconds=settings.kie_webhook_window_seconds,
        max_body_bytes=settings.webhooks_max_body_bytes,
    )
    runner = web.AppRunner(create_app(client, pool, config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhooks_host, settings.webhooks_port)
    await site.start()
    log.info("listening on %s:%s", settings.webhooks_host, settings.webhooks_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
