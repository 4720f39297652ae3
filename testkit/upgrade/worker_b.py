"""``python -m testkit.upgrade.worker_b``: the real workflow worker (``worker.py``: same activities, queues,
settings and drain) running version B of ``GenerationWorkflow`` (``testkit.upgrade.version_b``). The rolling
upgrade starts it in a stopped worker replica's place (``Stack.start_child``)."""

from __future__ import annotations

import asyncio
import os
import sys

import worker
from testkit.upgrade.version_b import install


def main() -> None:
    install(worker.WORKFLOWS)  # worker.workers() reads the list when it builds the Worker
    asyncio.run(worker.main())
    sys.stdout.flush()
    os._exit(0)  # as worker.py does: avoid the SDK's interpreter-exit crash


if __name__ == "__main__":
    main()
