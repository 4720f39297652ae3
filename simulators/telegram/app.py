"""The aiohttp application: Bot API routes, file downloads, and the /_sim control API."""

from __future__ import annotations

from aiohttp import web

from .config import MB
from .control import MIDDLEWARES
from .control import routes as control_routes
from .engine import ENGINE, Engine
from .errors import ApiError, not_found, unauthorized
from .params import read_params
from .webchat import routes as webchat_routes

# Several 50 MB uploads can share one sendMediaGroup request.
MAX_REQUEST_BYTES = 200 * MB


def build_app(engine: Engine) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=MIDDLEWARES)
    app[ENGINE] = engine
    app.router.add_route("POST", "/bot{token}/{method}", bot_api)
    app.router.add_route("GET", "/bot{token}/{method}", bot_api)
    app.router.add_get("/file/bot{token}/{file_path:.+}", download_file)
    app.add_routes(control_routes)
    app.add_routes(webchat_routes)
    app.router.add_get("/", to_webchat)
    return app


def build_webchat_app(engine: Engine) -> web.Application:
    """The web chat on a port of its own: the page plus the control API it acts through (no Bot API)."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=MIDDLEWARES)
    app[ENGINE] = engine
    app.add_routes(control_routes)
    app.add_routes(webchat_routes)
    app.router.add_get("/", to_webchat)
    return app


async def to_webchat(request: web.Request) -> web.Response:
    raise web.HTTPFound("/chat")


async def bot_api(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    try:
        params = await read_params(request)
    except ApiError as error:  # unreadable or too large: Telegram answers before any method runs
        return web.json_response(error.envelope(), status=error.error_code)
    return await engine.execute(request.match_info["token"], request.match_info["method"], params)


async def download_file(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    if engine.identity(request.match_info["token"]) is None:
        error = unauthorized()
        return web.json_response(error.envelope(), status=error.error_code)
    stored = engine.state.file_by_path(request.match_info["file_path"])
    data = engine.state.file_bytes(stored) if stored else None
    if stored is None or data is None:
        error = not_found()
        return web.json_response(error.envelope(), status=error.error_code)
    return web.Response(body=data, content_type=stored.mime_type)
