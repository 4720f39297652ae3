"""One way to connect to Temporal: every process uses the pydantic data converter, and the same settings
reach a dev server, a self-hosted cluster (optionally TLS) or Temporal Cloud (TLS + API key)."""

from __future__ import annotations

import asyncio
import logging
import time

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from genflow.settings import Settings


def _tls(settings: Settings) -> bool | TLSConfig:
    if settings.temporal_tls_cert_path and settings.temporal_tls_key_path:
        # mTLS, e.g. Temporal Cloud with certificates.
        return TLSConfig(
            client_cert=settings.temporal_tls_cert_path.read_bytes(),
            client_private_key=settings.temporal_tls_key_path.read_bytes(),
        )
    return settings.temporal_tls or settings.temporal_api_key is not None


log = logging.getLogger(__name__)

# A process starting while the Temporal server restarts (a deploy of both, a failover) waits for it.
STARTUP_RETRY_SECONDS = 60.0


async def connect_temporal(
    settings: Settings, *, runtime: Runtime | None = None, retry_for: float = STARTUP_RETRY_SECONDS
) -> Client:
    """A client; while the server cannot be reached, retried for ``retry_for`` seconds (backing off to 2 s)
    before the last error is raised. Once connected, the SDK reconnects by itself."""
    deadline = time.monotonic() + retry_for
    delay = 0.1
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
                tls=_tls(settings),
                api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
                runtime=runtime,
            )
        except RuntimeError as error:  # "Failed client connect: ... Connection refused"
            if "connect" not in str(error).lower() or time.monotonic() + delay > deadline:
                raise
            log.warning("Temporal not reachable yet; retrying in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)
