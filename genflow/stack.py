"""The whole system on one machine: `make run` (``python -m genflow.stack``).

Starts PostgreSQL (pgserver, unless DATABASE_URL is set) and the Temporal dev server with their state in
``.data/``, applies migrations, then the project's processes (simulators, worker, webhooks) as children.
Ctrl-C stops everything in reverse order. Tests and benchmarks import :class:`Stack` to bring the same
stack up on free ports in a temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genflow.embedded import die_with_parent, free_port, postgres, start_temporal, stop_process, wait_for_port
from genflow.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SIMULATED_KIE_KEY = "kie-simulator-key"
SIMULATED_BOT_TOKEN = "123456789:LOCAL-simulated-bot-token"


def simulated_settings(database_url: str | None, **overrides: Any) -> Settings:
    """Settings for a stack on both simulators whatever ``.env`` or the environment say (tests, benchmarks):
    no KIE key, no bot token, and secrets the stack generates for itself."""
    fields: dict[str, Any] = {
        "database_url": database_url,
        "kie_api_key": None,
        "kie_api_keys": [],
        "telegram_bot_token": None,
        "callback_secret": None,
        "kie_webhook_hmac_key": None,
        "public_base_url": "http://127.0.0.1:8080",
    }
    return Settings(_env_file=None, **(fields | overrides))


@dataclass
class Ports:
    temporal: int = 7233
    temporal_ui: int | None = 8233
    webhooks: int = 8080
    kie_simulator: int = 8090
    telegram_simulator: int = 8081
    webchat: int | None = 8088  # the local web chat; always also at <telegram simulator>/chat
    worker_metrics: int = 9464
    bot: int = 8082  # the bot's /healthz and /metrics
    telegram_worker_metrics: int = 9465

    @classmethod
    def free(cls) -> Ports:
        """Free ports for tests and benchmarks: several stacks can run side by side."""
        return cls(
            temporal=free_port(),
            temporal_ui=None,
            webhooks=free_port(),
            kie_simulator=free_port(),
            telegram_simulator=free_port(),
            webchat=None,
            worker_metrics=free_port(),
            bot=free_port(),
            telegram_worker_metrics=free_port(),
        )


@dataclass
class Child:
    name: str
    args: list[str]
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # on top of the stack's: a replica's own ports


@dataclass
class Stack:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    settings: Settings = field(default_factory=Settings)
    processes: tuple[str, ...] = ("worker", "telegram-worker", "webhooks")
    quiet: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    # More than 1: that many of each process (named worker-1, worker-2…), the webhooks servers and the bots
    # (webhook mode) behind nginx on the webhooks port, which KIE and Telegram then call.
    replicas: int = 1
    # nginx reaches these replicas through these ports instead of their own (tests: a link they can cut).
    via: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.children: list[Child] = []
        self._postgres: contextlib.ExitStack | None = None
        self._temporal: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}
        self.database_url = ""

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # pgserver runs postgres as an unprivileged user when we are root: it must reach its directory.
        self.data_dir.chmod(0o755)
        self.database_url = self.settings.database_url or self._start_postgres()
        self._migrate()
        self._start_temporal()
        self.env = self._child_env()
        for child in self._plan():
            self._spawn(child)

    def _start_temporal(self) -> None:
        self._temporal = start_temporal(
            self.data_dir / "temporal.db",
            port=self.ports.temporal,
            ui_port=self.ports.temporal_ui,
            namespace=self.settings.temporal_namespace,
            log_file=self.data_dir / "temporal.log",
        )

    def restart_temporal(self, down_seconds: float = 0.0, *, kill: bool = False) -> None:
        """Stop the Temporal server (SIGKILL when ``kill``) and start it again on its database file."""
        assert self._temporal is not None
        if kill:
            os.killpg(self._temporal.pid, signal.SIGKILL)
            self._temporal.wait()
        else:
            stop_process(self._temporal)
        time.sleep(down_seconds)
        self._start_temporal()

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process is not None:
                stop_process(child.process, timeout=15)
        self.children.clear()
        if self._temporal is not None:
            stop_process(self._temporal)
            self._temporal = None
        if self._postgres is not None:
            self._postgres.close()
            self._postgres = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- pieces --------------------------------------------------------------------------------------------
    def _start_postgres(self) -> str:
        self._postgres = contextlib.ExitStack()
        return self._postgres.enter_context(postgres(self.data_dir / "postgres"))

    def _migrate(self) -> None:
        from db.migrate import migrate

        asyncio.run(migrate(self.database_url))

    def _secret(self, name: str) -> str:
        """A secret generated on first run and kept in .data/, so callback URLs stay valid across restarts."""
        path = self.data_dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def simulate_kie(self) -> bool:
        return not self.settings.kie_keys

    @property
    def simulate_telegram(self) -> bool:
        return self.settings.telegram_bot_token is None

    def _child_env(self) -> dict[str, str]:
        s = self.settings
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.ports.temporal}",
            "WEBHOOKS_PORT": str(self.ports.webhooks),
            "WORKER_METRICS_PORT": str(self.ports.worker_metrics),
            "TELEGRAM_WORKER_METRICS_PORT": str(self.ports.telegram_worker_metrics),
            "BOT_PORT": str(self.ports.bot),
        }
        secret = s.callback_secret.get_secret_value() if s.callback_secret else self._secret("callback")
        env["CALLBACK_SECRET"] = secret
        if s.public_base_url == Settings.model_fields["public_base_url"].default:
            env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{self.ports.webhooks}"
        if self.simulate_kie:
            kie = f"http://127.0.0.1:{self.ports.kie_simulator}"
            env |= {
                "KIE_API_KEY": SIMULATED_KIE_KEY,
                "KIE_BASE_URL": kie,
                "KIE_UPLOAD_BASE_URL": kie,
                "KIE_WEBHOOK_HMAC_KEY": self._secret("kie-webhook-hmac"),
            }
        if self.simulate_telegram:
            env |= {
                "TELEGRAM_BOT_TOKEN": SIMULATED_BOT_TOKEN,
                "TELEGRAM_API_BASE": f"http://127.0.0.1:{self.ports.telegram_simulator}",
            }
        if self.replicas > 1 and "bot" in self.processes:
            # Telegram posts to the proxy, which spreads the updates over the bots.
            env["TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{self.ports.webhooks}"
        env |= self.extra_env
        return env

    def _plan(self) -> list[Child]:
        py = sys.executable
        plan: list[Child] = []
        if self.simulate_kie:
            # The simulator reads KIE_WEBHOOK_HMAC_KEY from the environment: no secret on a command line.
            port = self.ports.kie_simulator
            # It enforces the same per-account limit the workers are configured for (KIE's: 20 per 10 s).
            limit = {
                "rate_limit": self.settings.kie_rate_limit_tasks,
                "rate_window": self.settings.kie_rate_limit_period_seconds,
            }
            args = [py, "-m", "simulators.kie", "--port", str(port), "--config", json.dumps(limit)]
            plan.append(Child("kie-simulator", args, port))
        if self.simulate_telegram:
            args = [py, "-m", "simulators.telegram", "--port", str(self.ports.telegram_simulator)]
            args += ["--temporal-ui", str(self.settings.temporal_ui_url) if self.ports.temporal_ui else ""]
            if self.ports.webchat is not None:
                args += ["--webchat-port", str(self.ports.webchat)]
            plan.append(Child("telegram-simulator", args, self.ports.telegram_simulator))
        known = {
            "worker": Child("worker", [py, "worker.py"]),
            "telegram-worker": Child("telegram-worker", [py, "telegram_worker.py"]),
            "webhooks": Child("webhooks", [py, "-m", "webhooks"], self.ports.webhooks),
            # Polling mode: nothing to wait for but the process; its /healthz and /metrics are on BOT_PORT.
            "bot": Child("bot", [py, "-m", "bot"]),
        }
        if self.replicas == 1:
            return plan + [known[name] for name in self.processes]
        return plan + self._replicas(known)

    def _replicas(self, known: dict[str, Child]) -> list[Child]:
        """``replicas`` of each process on ports of their own, and nginx in front on the webhooks port."""
        from genflow import proxy

        layout = proxy.layout(self.processes, self.replicas)
        directory = self.data_dir / "proxy"
        conf = proxy.config(
            directory,
            port=self.ports.webhooks,
            webhooks=layout.ports("webhooks", via=self.via),
            bots=layout.ports("bot", via=self.via),
            max_body_bytes=self.settings.webhooks_max_body_bytes,
        )
        children = [Child("proxy", proxy.command(directory, conf), self.ports.webhooks)]
        for replica in layout.replicas:
            port = replica.port if replica.listens else None
            children.append(Child(replica.name, known[replica.process].args, port, env=replica.env))
        return children

    def _spawn(self, child: Child) -> None:
        # Quiet (tests, benchmarks): each child's output goes to <data_dir>/logs/<name>.log.
        out = None
        if self.quiet:
            (self.data_dir / "logs").mkdir(exist_ok=True)
            out = open(self.data_dir / "logs" / f"{child.name}.log", "ab")
        # A session of its own: the terminal's Ctrl-C reaches only us, and we stop children in order.
        child.process = subprocess.Popen(
            child.args,
            cwd=ROOT,
            env=self.env | child.env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.children.append(child)
        if child.port is not None:
            wait_for_port("127.0.0.1", child.port, timeout=30, process=child.process)

    def restart(self, name: str, *, kill: bool = False) -> None:
        """Stop a child (SIGKILL when ``kill``) and start it again: for tests of crashes and deploys."""
        self.stop_child(name, kill=kill)
        self.start_child(name)

    def stop_child(self, name: str, *, kill: bool = False, timeout: float = 45.0) -> None:
        """SIGTERM (and wait up to ``timeout`` for the drain), or SIGKILL; ``start_child`` brings it back."""
        child = next(c for c in self.children if c.name == name)
        assert child.process is not None
        if kill:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
        else:
            stop_process(child.process, timeout=timeout)

    def start_child(self, name: str, args: list[str] | None = None) -> None:
        """Start a stopped child again; ``args``: another command in its place (a deploy of new code)."""
        child = next(c for c in self.children if c.name == name)
        assert child.process is not None and child.process.poll() is not None, f"{name} is running"
        self.children.remove(child)
        self._spawn(Child(child.name, args or child.args, child.port, env=child.env))

    def dead_children(self) -> list[Child]:
        return [c for c in self.children if c.process is not None and c.process.poll() is not None]

    def describe(self) -> str:
        p = self.ports
        lines = [
            "Genflow is running:",
            f"  Temporal UI          http://localhost:{p.temporal_ui}" if p.temporal_ui else "",
            f"  Local chat           http://localhost:{p.webchat or p.telegram_simulator}/chat"
            if self.simulate_telegram
            else "",
            f"  Temporal frontend    127.0.0.1:{p.temporal} (namespace {self.settings.temporal_namespace})",
            f"  PostgreSQL           {_redact(self.database_url)}",
            f"  KIE callbacks        {self.env.get('PUBLIC_BASE_URL')}/kie/callback/…",
        ]
        for child in self.children:
            where = f"127.0.0.1:{child.port}" if child.port else "(no port)"
            lines.append(f"  {child.name:<20} {where}  pid {child.process.pid if child.process else '-'}")
        lines.append(f"  state                {self.data_dir}/  (make clean-data forgets it)")
        lines.append("Press Ctrl-C to stop everything.")
        return "\n".join(line for line in lines if line)


def _redact(url: str) -> str:
    # Never print a password from DATABASE_URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return (
            f"{scheme}://{user}:***@{host}"
            if ":" in creds and creds.split(":", 1)[1]
            else f"{scheme}://{user}@{host}"
        )
    return url


if __name__ == "__main__":
    from genflow.launch import main

    main()
