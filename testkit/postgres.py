"""An embedded PostgreSQL (pgserver) that chaos runs can stop and start again on the same socket."""

from __future__ import annotations

import time
from pathlib import Path


class Postgres:
    """pgserver in ``data_dir``; :meth:`restart` stops and starts it on the same socket (same URL)."""

    def __init__(self, data_dir: Path) -> None:
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(data_dir, cleanup_mode="stop")
        self.url = self.server.get_uri()
        self.down_since: float | None = None

    def _pg_ctl(self, args: list[str]) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        self.down_since = time.time()
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def start(self) -> None:
        from pgserver.utils import PostmasterInfo

        socket_dir = self.server.get_postmaster_info().socket_dir
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.server.log), "start"])
        self.server._postmaster_info = PostmasterInfo.read_from_pgdata(self.server.pgdata)
        self.down_since = None

    def restart(self, down_seconds: float = 2.0) -> tuple[float, float]:
        """Stop (fast shutdown: open connections are cut), wait, start; returns the (down, up) wall times,
        down from the moment the shutdown began (clients see it from then on)."""
        down = time.time()
        self.stop()
        time.sleep(down_seconds)
        self.start()
        return down, time.time()

    def close(self) -> None:
        self.server.cleanup()
