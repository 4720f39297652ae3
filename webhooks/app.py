"""aiohttp application: ``POST /kie/callback/{workflow_id}``, ``GET /healthz``, ``GET /readyz``.

A callback is a notification: the workflow confirms the outcome with KIE's status endpoint before any money
moves, so this server only has to make sure the notification is ours (the URL's token) and signal. What the
body reports, read by the KIE adapter of the model the URL names, goes with the signal for the workflow's
timeline. The generation's row is read only when the URL names no model (URLs from before it did) or
Temporal knows no such workflow (closed and forgotten: 200; never existed: 404), which keeps PostgreSQL off
the path of every callback. Answers: 200 signalled (or the generation already finished); 400 malformed;
403 bad URL token; 401 bad KIE signature; 404 no such generation; 413 too large; 503 Temporal or
PostgreSQL unreachable, or still starting (KIE retries).

The server listens before it is connected: ``/healthz`` answers at once, ``/readyz`` and callbacks answer
503 until Temporal and PostgreSQL are connected (see ``webhooks/__main__.py``), so a load balancer or a
rolling deploy never sends KIE's callbacks to a process that cannot signal yet. ``GET /metrics`` serves
Prometheus metrics: requests by route, method, status and outcome, and a latency histogram.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from catalog import Catalog, UnknownModel, get_catalog
from contracts.generation import signal_kie_callback
from contracts.ids import parse_generation_id
from contracts.models import KieCallbackSignal
from contracts.routes import KIE_CALLBACK_MODEL_PARAM, KIE_CALLBACK_ROUTE, KIE_CALLBACK_TOKEN_PARAM
from db import Generations
from genflow.metrics import HttpMetrics, set_outcome
from kie.callbacks import describe_callback, extract_task_id
from kie.signature import verify_callback_token, verify_kie_signature

log = logging.getLogger("webhooks")


@dataclass
class WebhookConfig:
    callback_secret: str
    kie_hmac_key: str | None = None
    signature_window_seconds: int = 300
    max_body_bytes: int = 1_000_000


@dataclass
class Backends:
    """What the handlers need; empty until the process has connected (then ``ready``)."""

    client: Client | None = None
    pool: asyncpg.Pool | None = None
    stopping: bool = False
    metrics: HttpMetrics = field(default_factory=lambda: HttpMetrics("webhooks"))

    @property
    def ready(self) -> bool:
        return self.client is not None and self.pool is not None and not self.stopping

    def connected(self, client: Client, pool: asyncpg.Pool) -> None:
        self.client, self.pool = client, pool
        self.metrics.set_ready(self.ready)

    def stop(self) -> None:
        """Shutting down: report not ready so traffic moves elsewhere while in-flight requests finish."""
        self.stopping = True
        self.metrics.set_ready(False)


BACKENDS = web.AppKey("backends", Backends)
CONFIG = web.AppKey("config", WebhookConfig)
CATALOG = web.AppKey("catalog", Catalog)


def _answer(status: int, outcome: str) -> web.Response:
    return set_outcome(web.json_response({"ok": status < 400, "outcome": outcome}, status=status), outcome)


async def kie_callback(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    backends = request.app[BACKENDS]
    if backends.client is None or backends.pool is None:
        # Starting: KIE retries a 5xx, and by then we are connected (or another replica answers).
        return _answer(503, "starting")
    workflow_id = request.match_info["workflow_id"]
    if parse_generation_id(workflow_id) is None:
        return _answer(404, "unknown_generation")
    if not verify_callback_token(
        config.callback_secret, workflow_id, request.query.get(KIE_CALLBACK_TOKEN_PARAM)
    ):
        log.warning("callback with a bad URL token", extra={"workflow_id": workflow_id})
        return _answer(403, "bad_token")
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        return _answer(413, "too_large")
    try:
        raw = await _read_limited(request, config.max_body_bytes)
    except (RequestPayloadError, ClientPayloadError, HttpProcessingError):
        return _answer(400, "unreadable_body")  # e.g. a broken gzip stream: no retry can fix it
    if raw is None:
        return _answer(413, "too_large")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and integers too long to convert; RecursionError, nesting
        # deep enough to exhaust the parser. Malformed for good: 400, never a 5xx that KIE would retry.
        return _answer(400, "malformed_json")
    if not isinstance(body, dict):
        return _answer(400, "malformed_json")
    task_id = extract_task_id(body)
    if not task_id:
        return _answer(400, "no_task_id")
    if config.kie_hmac_key and not verify_kie_signature(
        config.kie_hmac_key,
        task_id,
        request.headers.get("X-Webhook-Timestamp"),
        request.headers.get("X-Webhook-Signature"),
        now=time.time(),
        window_seconds=config.signature_window_seconds,
    ):
        log.warning("callback with a bad KIE signature", extra={"workflow_id": workflow_id})
        return _answer(401, "bad_signature")

    generations = Generations(backends.pool)
    model_id = request.query.get(KIE_CALLBACK_MODEL_PARAM)
    if model_id is None:  # a callback URL from before it named the model: the row says
        target = await generations.callback_target(workflow_id)
        if target is None:
            return _answer(404, "unknown_generation")
        if target.finished:
            return _answer(200, "already_finished")  # or KIE would retry for nothing
        model_id = target.model_id
    signal = _signal(body, task_id, model_id, request.app[CATALOG])
    try:
        await signal_kie_callback(backends.client.get_workflow_handle(workflow_id), signal)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            # Closed (Temporal forgets closed workflows after retention; the row still vouches for the id),
            # or never started.
            if await generations.callback_target(workflow_id) is None:
                return _answer(404, "unknown_generation")
            return _answer(200, "already_finished")  # or KIE would retry for nothing
        if err.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.CANCELLED,
        ):
            log.error("Temporal unreachable; KIE will retry", extra={"workflow_id": workflow_id})
            return _answer(503, "temporal_unavailable")
        raise
    log.info("callback signalled", extra={"workflow_id": workflow_id, "kie_task_id": task_id})
    return _answer(200, "signalled")


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None past ``limit`` bytes (chunked bodies have no Content-Length to check first)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _signal(body: dict[str, Any], task_id: str, model_id: str, catalog: Catalog) -> KieCallbackSignal:
    """The signal: the task, Suno's stage, and what the body reports (for the timeline, never trusted)."""
    data = body.get("data")
    callback_type = data.get("callbackType") if isinstance(data, dict) else None
    try:
        reported = describe_callback(body, catalog.get(model_id))
    except UnknownModel:  # the model left the catalog since; the status check still decides
        reported = None
    return KieCallbackSignal(
        task_id=task_id,
        callback_type=str(callback_type)[:32] if isinstance(callback_type, str) else None,
        reported=reported,
    )


async def healthz(_request: web.Request) -> web.Response:
    return _answer(200, "alive")


async def readyz(request: web.Request) -> web.Response:
    backends = request.app[BACKENDS]
    if backends.stopping:
        return _answer(503, "stopping")
    if backends.client is None or backends.pool is None:
        return _answer(503, "starting")
    try:
        await backends.client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=2)
        )
    except Exception:
        return _answer(503, "temporal_unreachable")
    try:
        await backends.pool.fetchval("SELECT 1", timeout=2)
    except Exception:
        return _answer(503, "database_unreachable")
    return _answer(200, "ready")


@web.middleware
async def unexpected_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        # Something we did not foresee: a 503 makes KIE retry later instead of dropping the callback.
        log.exception("callback handling failed", extra={"path": request.path})
        return _answer(503, "internal_error")


def create_app(
    client: Client | None,
    pool: asyncpg.Pool | None,
    config: WebhookConfig,
    *,
    backends: Backends | None = None,
    catalog: Catalog | None = None,
) -> web.Application:
    """The application; with ``client``/``pool`` None it answers 503 until ``backends.connected(...)``."""
    backends = backends or Backends()
    if client is not None and pool is not None:
        backends.connected(client, pool)
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[unexpected_errors])
    app[BACKENDS] = backends
    app[CONFIG] = config
    app[CATALOG] = catalog or get_catalog()
    backends.metrics.install(app)
    app.router.add_post(KIE_CALLBACK_ROUTE, kie_callback)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
