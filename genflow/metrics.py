"""Metrics and health endpoints shared by the processes.

- :class:`HttpMetrics` — a Prometheus registry of its own, an aiohttp middleware counting requests by route,
  method, status and outcome with a latency histogram, and a ``GET /metrics`` handler. The webhooks server
  uses it; the bot can too (see below).
- :func:`temporal_runtime` — the Temporal SDK's runtime with its Prometheus exporter (the worker's metrics)
  and the SDK core's own log lines forwarded into Python logging (so they are JSON and redacted too).
- :func:`start_ops_server` — ``/healthz``, ``/readyz`` and ``/metrics`` on a port of their own, for a
  process that has no HTTP server (e.g. the bot in long-polling mode).
- ``python -m genflow.metrics probe URL`` — exit 0 when URL answers 2xx: container healthchecks without curl.

The bot, for example::

    metrics = HttpMetrics("bot")
    metrics.install(app)                       # webhook mode: the aiohttp app that serves Telegram's updates
    runner = await start_ops_server(host, port, metrics, ready=lambda: connected)   # long-polling mode
    metrics.observe_update("message", "handled", seconds)   # per handled update, both modes

Route labels are the route's pattern (``/kie/callback/{workflow_id}``), never the raw path, so the number of
series stays bounded. A handler may name its ``outcome`` (``response["outcome"] = "signalled"``);
otherwise the outcome is the status class (``2xx``, ``4xx``, ``5xx``).
"""

from __future__ import annotations

import logging
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

log = logging.getLogger(__name__)

ResponseT = TypeVar("ResponseT", bound=web.StreamResponse)

# Seconds. KIE wants a callback answered within 15 s; Telegram a webhook within ~60 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0)
# Key of the response's user data naming the outcome (typed keys since aiohttp 3.12).
OUTCOME: Any = web.ResponseKey("outcome", str) if hasattr(web, "ResponseKey") else "outcome"


class HttpMetrics:
    """One process's HTTP metrics on a registry of its own (so tests may create many)."""

    def __init__(self, process: str, registry: CollectorRegistry | None = None) -> None:
        self.process = process
        self.registry = registry or CollectorRegistry()
        if registry is None:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "genflow_http_requests",
            "HTTP requests handled, by route pattern, method, status and outcome.",
            ["process", "route", "method", "status", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "genflow_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern and method.",
            ["process", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "genflow_http_requests_in_flight",
            "HTTP requests being handled now.",
            ["process"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "genflow_ready",
            "1 when the process is connected to what it needs (Temporal, PostgreSQL), 0 while starting.",
            ["process"],
            registry=self.registry,
        )
        self.updates = Counter(
            "genflow_bot_updates",
            "Telegram updates handled by the bot, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.update_latency = Histogram(
            "genflow_bot_update_duration_seconds",
            "Time to handle a Telegram update, by kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ready.labels(process).set(0)

    # -- aiohttp -------------------------------------------------------------------------------------
    @property
    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        process = self.process

        @web.middleware
        async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            route = _route(request)
            started = time.perf_counter()
            status, outcome = 500, None
            gauge = self.in_flight.labels(process)
            gauge.inc()
            try:
                response = await handler(request)
                status = response.status
                outcome = response.get(OUTCOME)
                return response
            except web.HTTPException as err:
                status = err.status
                raise
            finally:
                gauge.dec()
                elapsed = time.perf_counter() - started
                self.latency.labels(process, route, request.method).observe(elapsed)
                self.requests.labels(
                    process, route, request.method, str(status), outcome or f"{status // 100}xx"
                ).inc()

        return metrics_middleware

    async def handler(self, _request: web.Request) -> web.Response:
        """``GET /metrics`` in Prometheus' text format."""
        response = web.Response(body=generate_latest(self.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    def install(self, app: web.Application, path: str = "/metrics") -> None:
        """Count every request of ``app`` (as its outermost middleware) and serve ``path``.

        Call before the app starts (aiohttp freezes middlewares at start-up).
        """
        app.middlewares.insert(0, self.middleware)
        app.router.add_get(path, self.handler)

    # -- the bot -------------------------------------------------------------------------------------
    def observe_update(self, kind: str, outcome: str, seconds: float) -> None:
        """One Telegram update handled: ``kind`` e.g. message / callback_query, ``outcome`` e.g. handled."""
        self.updates.labels(kind, outcome).inc()
        self.update_latency.labels(kind).observe(seconds)

    def set_ready(self, ready: bool) -> None:
        self.ready.labels(self.process).set(1 if ready else 0)


def _route(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


def set_outcome(response: ResponseT, outcome: str) -> ResponseT:
    """Name the outcome of a request for the metrics (bounded vocabulary, never an id)."""
    response[OUTCOME] = outcome
    return response


async def start_ops_server(
    host: str, port: int, metrics: HttpMetrics, *, ready: Callable[[], bool] = lambda: True
) -> web.AppRunner:
    """``/healthz`` (alive), ``/readyz`` (``ready()``) and ``/metrics`` on their own port; returns the
    runner (``await runner.cleanup()`` at shutdown)."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "outcome": "alive"})

    async def readyz(_request: web.Request) -> web.Response:
        ok = ready()
        metrics.set_ready(ok)
        return web.json_response(
            {"ok": ok, "outcome": "ready" if ok else "starting"}, status=200 if ok else 503
        )

    app = web.Application()
    metrics.install(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


# -- Temporal ---------------------------------------------------------------------------------------------
def temporal_runtime(metrics_port: int | None, *, host: str = "0.0.0.0") -> Runtime:
    """A Temporal runtime exporting the SDK's metrics on ``host:metrics_port`` (Prometheus text format,
    any path) and forwarding the SDK core's log lines to the ``temporalio.core`` logger.

    A port that cannot be bound is logged at ERROR and the runtime runs without the exporter: a worker
    without metrics still moves generations forward; a worker crash-looping on a busy port does not.
    """
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    if metrics_port is not None:
        try:
            return Runtime(
                telemetry=TelemetryConfig(
                    logging=logging_config,
                    metrics=PrometheusConfig(bind_address=f"{host}:{metrics_port}"),
                )
            )
        except ValueError as err:
            log.error("Temporal metrics disabled: %s", err, extra={"port": metrics_port})
    return Runtime(telemetry=TelemetryConfig(logging=logging_config))


# -- healthchecks ---------------------------------------------------------------------------------------
def probe(url: str, timeout: float = 3.0) -> int:
    """0 when ``url`` answers 2xx, 1 otherwise (a container healthcheck's exit code)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError, ValueError) as err:
        print(f"probe {url}: {err}", file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "probe":
        print("usage: python -m genflow.metrics probe URL", file=sys.stderr)
        return 2
    return probe(argv[1])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
