"""What both worker processes share: activity context in logs; running workers until SIGTERM, then draining.

`worker.py` runs the workflows and the PostgreSQL/KIE activities; `telegram_worker.py` runs the activities
that call the Telegram Bot API. Both stop the same way: in-flight activities get the grace period to finish,
then Temporal retries them on another worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import timedelta

import aiohttp
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from genflow.logs import setup_process_logging
from genflow.metrics import temporal_runtime
from genflow.settings import Settings
from genflow.temporal import connect_temporal
from kie.accounts import KieAccounts
from kie.client import KieClient

GRACEFUL_SHUTDOWN = timedelta(seconds=30)


class ActivityContextFilter(logging.Filter):
    """Adds ``workflow_id`` (and the activity's name) to records logged inside an activity.

    Activities log with plain module loggers; the activity's context is a contextvar of the task running it,
    so this filter, running synchronously in that task, can read it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if activity.in_activity() and not hasattr(record, "workflow_id"):
            info = activity.info()
            record.workflow_id = info.workflow_id
            record.activity = info.activity_type
        return True


def kie_accounts(settings: Settings, http: aiohttp.ClientSession) -> KieAccounts:
    """Both workers talk to KIE (submits and status checks; uploads and the credits check), as every
    configured account."""
    keys = settings.kie_keys
    assert keys
    client = KieClient(
        http,
        base_url=str(settings.kie_base_url),
        upload_base_url=str(settings.kie_upload_base_url),
        api_key=keys[0],
    )
    return KieAccounts(client, keys)


WorkerFactory = Callable[[Settings, Client], AbstractAsyncContextManager[list[Worker]]]


async def serve(
    name: str,
    settings: Settings,
    build: WorkerFactory,
    *,
    metrics_port: int | None,
    before: Callable[[Client], Awaitable[None]] | None = None,
) -> None:
    """Connect, run the workers ``build`` makes until SIGTERM/SIGINT, then drain them all at once."""
    log = logging.getLogger(name)
    setup_process_logging(name, settings, filters=[ActivityContextFilter()])
    # Handlers first: a SIGTERM during start-up must stop us cleanly, not kill us mid-connect.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if settings.log_json:
        # The workflow_id is a field of its own in JSON lines: no need to repeat the info in the message.
        workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False
    client = await connect_temporal(settings, runtime=temporal_runtime(metrics_port))
    if before is not None:
        await before(client)
    async with build(settings, client) as workers, AsyncExitStack() as running:
        for worker in workers:
            await running.enter_async_context(worker)
        log.info("%s polling %s", name, ", ".join(w.task_queue for w in workers))
        await stop.wait()
        log.info("draining: in-flight activities get %ss", GRACEFUL_SHUTDOWN.total_seconds())
        # All at once: the whole drain takes one grace period, not one per worker.
        await asyncio.gather(*(w.shutdown() for w in workers))
    log.info("%s stopped", name)
