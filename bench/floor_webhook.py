"""The webhook floor: a minimal aiohttp handler that only turns a callback into the signal.

No token, no signature, no validation, no metrics, no logging: what is left is aiohttp plus one Temporal
signal, the least any callback endpoint on this machine can cost.
``python -m bench.floor_webhook --address ... --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from aiohttp import web
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_webhook")
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    async def serve() -> None:
        client = await Client.connect(args.address, data_converter=pydantic_data_converter)

        async def callback(request: web.Request) -> web.Response:
            body = json.loads(await request.read())
            await client.get_workflow_handle(request.match_info["workflow_id"]).signal(
                "kie_callback", {"task_id": body["data"]["taskId"], "callback_type": None}
            )
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_post("/kie/callback/{workflow_id}", callback)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
