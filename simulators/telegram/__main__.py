"""Run the simulator standalone: ``python -m simulators.telegram --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from .config import SimulatorConfig
from .simulator import TelegramSimulator


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.telegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", help="the bot's token (getMe names apply to it)")
    parser.add_argument("--only-token", action="store_true", help="reject every other token with 401")
    parser.add_argument("--bot-username", default=SimulatorConfig.bot_username)
    parser.add_argument("--strict", action="store_true", help='unknown chats answer "chat not found"')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--public-url", help="base URL for media links in transcripts")
    parser.add_argument(
        "--webchat-port",
        type=int,
        help="also serve the local web chat on this port (it is always at /chat on --port)",
    )
    parser.add_argument(
        "--temporal-ui",
        default=SimulatorConfig.temporal_ui_url,
        help="the Temporal UI the web chat links to ('' for no link)",
    )
    return parser.parse_args()


async def _serve(args: argparse.Namespace) -> None:
    config = SimulatorConfig(
        token=args.token,
        accept_any_token=not args.only_token,
        bot_username=args.bot_username,
        strict_chats=args.strict,
        seed=args.seed,
        public_url=args.public_url,
        webchat_port=args.webchat_port,
        temporal_ui_url=args.temporal_ui or None,
    )
    simulator = TelegramSimulator(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    url = await simulator.start(args.host, args.port)
    print(f"Telegram Bot API simulator on {url} (Ctrl+C to stop)", flush=True)
    print(f"Local web chat: {simulator.webchat_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await simulator.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(_parse_args()))


if __name__ == "__main__":
    main()
