"""The load balancer in front of several replicas (``python -m genflow.stack --replicas N``): Debian's nginx,
configured here, run unprivileged in the stack's directory. Production runs the same shape
(deploy/nginx.conf, docs/deploy.md).

Both public routes go round-robin to the replicas: KIE's callbacks to the webhooks servers, Telegram's
updates to the bots. A replica that refuses the connection (stopped, restarting) or answers 502/503 (still
connecting to Temporal) is skipped for the next one, POSTs included: a callback is a notification the
workflow de-duplicates, and the bot claims each update in PostgreSQL, so a retry on another replica cannot
do anything twice. ``X-Upstream`` in each answer names the replica that gave it.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from genflow.embedded import free_port

TELEGRAM_PATH = "/telegram/webhook"
KIE_PREFIX = "/kie/"


# The variable that gives each replica its own port (metrics, or what it serves).
OWN_PORT = {
    "worker": "WORKER_METRICS_PORT",
    "telegram-worker": "TELEGRAM_WORKER_METRICS_PORT",
    "webhooks": "WEBHOOKS_PORT",
    "bot": "BOT_PORT",
}
BEHIND_PROXY = ("webhooks", "bot")


@dataclass(frozen=True)
class Replica:
    process: str
    name: str  # <process>-<n>
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def listens(self) -> bool:
        return self.process in BEHIND_PROXY


@dataclass(frozen=True)
class Layout:
    replicas: list[Replica]

    def ports(self, process: str, via: dict[str, int] | None = None) -> list[int]:
        """Where nginx reaches ``process``'s replicas: their own ports, or ``via[name]``."""
        via = via or {}
        return [via.get(r.name, r.port) for r in self.replicas if r.process == process]


def layout(processes: tuple[str, ...], count: int) -> Layout:
    """``count`` replicas of each process, each on a free port of its own."""
    replicas = []
    for process in processes:
        for index in range(1, count + 1):
            port = free_port()
            replicas.append(Replica(process, f"{process}-{index}", port, {OWN_PORT[process]: str(port)}))
    return Layout(replicas)


def nginx_bin() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx not found: replicas need Debian's nginx (apt-get install nginx-light)")
    return found


def _upstream(name: str, ports: list[int]) -> str:
    # max_fails=0: never marked down. A refused connection costs nothing on the way to the next replica, and
    # a replica back from a restart gets traffic at once; with max_fails, a rolling restart that stops the
    # next replica within fail_timeout would leave nginx with "no live upstreams" (502 to Telegram and KIE).
    servers = "".join(f"        server 127.0.0.1:{port} max_fails=0;\n" for port in ports)
    return f"    upstream {name} {{\n{servers}    }}\n"


def config(directory: Path, *, port: int, webhooks: list[int], bots: list[int], max_body_bytes: int) -> str:
    """nginx.conf for a proxy on ``port`` in front of these replicas, every file under ``directory``."""
    temp = directory / "tmp"
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    routes = ""
    if webhooks:
        routes += f"        location {KIE_PREFIX} {{ proxy_pass http://genflow_webhooks; }}\n"
    if bots:
        routes += f"        location = {TELEGRAM_PATH} {{ proxy_pass http://genflow_bot; }}\n"
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    log_format replicas '$time_iso8601 $request_method $uri $status "
        "upstream=$upstream_addr upstream_status=$upstream_status seconds=$request_time';\n"
        f"    access_log {directory}/access.log replicas;\n"
        f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n"
        f"    scgi_temp_path {temp}/scgi;\n"
        f"    client_max_body_size {max_body_bytes + 1};\n"  # the webhooks server answers 413 itself
        + (_upstream("genflow_webhooks", webhooks) if webhooks else "")
        + (_upstream("genflow_bot", bots) if bots else "")
        + "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        "        proxy_http_version 1.1;\n"
        '        proxy_set_header Connection "";\n'
        "        proxy_set_header Host $host;\n"
        "        proxy_set_header X-Forwarded-For $remote_addr;\n"
        "        proxy_next_upstream error timeout http_502 http_503 non_idempotent;\n"
        "        proxy_connect_timeout 2s;\n"
        "        proxy_read_timeout 30s;\n"  # Telegram and KIE give up sooner and retry
        "        add_header X-Upstream $upstream_addr always;\n"
        f"{routes}"
        "        location / { return 404; }\n"
        "    }\n"
        "}\n"
    )


def command(directory: Path, conf: str) -> list[str]:
    """Write ``conf`` (from :func:`config`) into ``directory``; the command that runs nginx on it."""
    (directory / "tmp").mkdir(parents=True, exist_ok=True)
    path = directory / "nginx.conf"
    path.write_text(conf)
    return [nginx_bin(), "-p", str(directory), "-c", str(path), "-e", str(directory / "error.log")]
