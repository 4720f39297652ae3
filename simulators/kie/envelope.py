"""KIE's answer envelope ``{"code", "msg", "data"}`` and the Bearer-auth middleware."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulators.kie.config import KieSimConfig

CONFIG_KEY: web.AppKey[Callable[[], KieSimConfig]] = web.AppKey("kie_sim_config")

# HTTP statuses KIE really uses for these codes, whatever the body says (CONTRACT "Basics").
_ALWAYS_REAL_HTTP = frozenset({401, 429})


def reply(code: int, msg: str, data: Any = None, *, http_status: int = 200, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "data": data, **extra}, status=http_status)


def error(
    config: KieSimConfig, code: int, msg: str, *, with_data: bool = True, data: Any = None
) -> web.Response:
    """An envelope error; the HTTP status mirrors the code only when it must or when configured. Some
    errors carry ``data`` (Veo 4K's 422 "already generated" holds the URLs)."""
    status = code if code in _ALWAYS_REAL_HTTP or config.mirror_http_status else 200
    body: dict[str, Any] = {"code": code, "msg": msg}
    if with_data:
        body["data"] = data
    return web.json_response(body, status=status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """KIE's API and upload routes need ``Authorization: Bearer <key>``; files and /_sim do not."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    config = request.app[CONFIG_KEY]()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    known = {config.api_key, *config.api_keys} - {None}
    if (
        scheme.lower() != "bearer"
        or not token
        or (known and token not in known)
        or token in config.revoked_keys
    ):
        # Exactly KIE's body for a missing/invalid key (fixtures/error_401_missing_headers.json).
        return web.json_response({"code": 401, "msg": "You do not have access permissions"}, status=401)
    return await handler(request)


def account_of(request: web.Request) -> str:
    """The caller's account: its Bearer token (checked by ``bearer_auth``)."""
    return request.headers.get("Authorization", "").partition(" ")[2].strip()


def account_label(token: str) -> str:
    """A short, stable, non-secret name for an account in stats and logs."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]


async def json_body(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object, or None when it is not one."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
