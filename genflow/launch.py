"""``python -m genflow.stack`` (``make run``): the whole system on this machine until Ctrl-C (see
:mod:`genflow.stack`); ``--replicas N`` runs N of each process behind nginx."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from genflow.settings import Settings, describe_error, exit_invalid
from genflow.stack import ROOT, Ports, Stack


def main(argv: list[str] | None = None) -> None:
    import argparse

    from pydantic import ValidationError

    parser = argparse.ArgumentParser(
        prog="python -m genflow.stack", description="Run Genflow on this machine."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / ".data", help="state directory (default .data/)"
    )
    parser.add_argument("--free-ports", action="store_true", help="pick free ports instead of the defaults")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="run N of each process behind nginx (the bots in webhook mode); needs Debian's nginx",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        exit_invalid(describe_error(error))
    stack = Stack(
        args.data_dir.resolve(),
        settings=settings,
        ports=Ports.free() if args.free_ports else Ports(webchat=settings.webchat_port),
        processes=("worker", "telegram-worker", "webhooks", "bot"),
        replicas=max(1, args.replicas),
    )
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    code = 0
    try:
        print("Starting PostgreSQL, Temporal and Genflow's processes…", flush=True)
        stack.start()
        print(stack.describe(), flush=True)
        while True:
            time.sleep(0.5)
            if dead := stack.dead_children():
                names = ", ".join(f"{c.name} (exit {c.process.returncode})" for c in dead if c.process)
                print(f"genflow: {names} stopped unexpectedly; stopping everything.", file=sys.stderr)
                code = 1
                break
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave orphans
        stack.stop()
        print("Stopped.", flush=True)
    sys.stdout.flush()
    os._exit(code)
