"""Run the KIE simulator standalone: ``python -m simulators.kie --host 127.0.0.1 --port 8055``.

Any KieSimConfig knob can be given as JSON with ``--config '{"failure_share": 0.1}'`` (or ``@file.json``);
knobs can also be changed while it runs with ``POST /_sim/config``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from simulators.kie.config import KieSimConfig
from simulators.kie.server import KieSimulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.kie", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8055)
    parser.add_argument("--latency", type=float, help="seconds from create to final state")
    parser.add_argument("--seed", type=int, help="RNG seed (deterministic outcomes and task ids)")
    parser.add_argument("--api-key", help="accept only this Bearer key (default: any)")
    # The key also comes from KIE_WEBHOOK_HMAC_KEY, so `make run` never puts a secret on a command line.
    parser.add_argument(
        "--hmac-key",
        default=os.environ.get("KIE_WEBHOOK_HMAC_KEY") or None,
        help="sign callbacks with this webhookHmacKey (default: $KIE_WEBHOOK_HMAC_KEY)",
    )
    parser.add_argument("--public-url", help="base URL for result/upload links (default: listen address)")
    parser.add_argument("--config", help="JSON object of KieSimConfig knobs, or @path/to/file.json")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log every HTTP request")
    return parser.parse_args(argv)


def _config(args: argparse.Namespace) -> KieSimConfig:
    knobs: dict[str, Any] = {}
    if args.config:
        text = Path(args.config[1:]).read_text() if args.config.startswith("@") else args.config
        knobs.update(json.loads(text))
    flags = {
        "latency": args.latency,
        "seed": args.seed,
        "api_key": args.api_key,
        "webhook_hmac_key": args.hmac_key,
        "public_base_url": args.public_url,
    }
    knobs.update({key: value for key, value in flags.items() if value is not None})
    return KieSimConfig.model_validate(knobs)


async def _serve(args: argparse.Namespace) -> None:
    sim = KieSimulator(_config(args))
    await sim.start(args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("asyncio").setLevel(logging.WARNING)
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
