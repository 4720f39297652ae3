"""Routes of the web chat: the page, its static files, and two read-only JSON endpoints.

The page acts as the user through the simulator's own control API (``/_sim/users/{id}/...``); it reads
the chat through ``/chat/api/...``, which returns messages already rendered to safe HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from ..engine import ENGINE, Engine
from ..models import ChatEvent
from .render import chat_message_json, commands_json, escape, reply_keyboard, safe_url, transcript_json

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {
    "app.js": "text/javascript",
    "style.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
DEFAULT_USER_ID = 1001
DEFAULT_USER_NAME = "You"
MAX_POLL_SECONDS = 60.0
_LANG = re.compile(r"[a-z]{2,3}")
# Defence in depth: even if a bot's text slipped through unescaped, no inline script could run.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

routes = web.RouteTableDef()


def _engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


def _language(request: web.Request) -> str:
    """?lang=ru, else the browser's first Accept-Language, else English."""
    wanted = request.query.get("lang") or request.headers.get("Accept-Language", "").split(",")[0]
    code = wanted.strip().lower().replace("_", "-").split("-")[0]
    return code if _LANG.fullmatch(code) else "en"


def page_settings(request: web.Request) -> dict[str, str]:
    """The local user from the query string: ?user=1001&name=Ann&lang=ru (400 on a bad user id)."""
    raw_user = request.query.get("user", str(DEFAULT_USER_ID)).strip()
    if not raw_user.isdigit() or not 0 < int(raw_user) < 2**52:
        raise web.HTTPBadRequest(text="user must be a positive integer id, e.g. /chat?user=1001")
    name = " ".join(request.query.get("name", DEFAULT_USER_NAME).split())[:64] or DEFAULT_USER_NAME
    temporal_ui = safe_url(_engine(request).config.temporal_ui_url or "") or ""
    config = _engine(request).config
    return {
        "user_id": str(int(raw_user)),
        "user_name": name,
        "lang": _language(request),
        "temporal_ui": temporal_ui,
        "bot_name": config.bot_first_name,
        "bot_username": config.bot_username,
    }


def render_page(settings: dict[str, str]) -> str:
    template = (Path(__file__).parent / "page.html").read_text(encoding="utf-8")
    temporal = settings["temporal_ui"]
    link = (
        f'<a class="temporal-link" href="{escape(temporal)}" target="_blank" rel="noopener">Temporal UI</a>'
        if temporal
        else ""
    )
    values = {key: escape(value) for key, value in settings.items()}
    values["temporal_link"] = link
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], template)


@routes.get("/chat")
async def chat_page(request: web.Request) -> web.Response:
    response = web.Response(text=render_page(page_settings(request)), content_type="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@routes.get("/chat/")
async def chat_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.rel_url.with_path("/chat"))


@routes.get("/chat/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    response = web.Response(body=(STATIC_DIR / name).read_bytes(), content_type=STATIC_FILES[name])
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@routes.get("/chat/api/chats/{chat_id}")
async def transcript(request: web.Request) -> web.Response:
    """The whole chat, rendered: ``{"ok", "chat": {messages, reply_keyboard, last_seq, ...}}``."""
    chat_id = int(request.match_info["chat_id"])
    return web.json_response({"ok": True, "chat": transcript_json(_engine(request).state, chat_id)})


@routes.get("/chat/api/chats/{chat_id}/events")
async def events(request: web.Request) -> web.Response:
    """The simulator's chat long poll (``/_sim/chats/{id}/events``) with messages rendered for the page.

    ``resync: true`` tells the page its cursor is unusable (the simulator restarted, or the events it
    missed were dropped): it should reload the transcript.
    """
    state = _engine(request).state
    chat_id = int(request.match_info["chat_id"])
    after = int(request.query.get("after", 0))
    timeout = max(0.0, min(float(request.query.get("timeout", 25)), MAX_POLL_SECONDS))
    oldest = state.events[0].seq if state.events else state.event_seq + 1
    if after > state.event_seq or (after < oldest - 1 and after != 0):
        return web.json_response({"ok": True, "events": [], "last_seq": state.event_seq, "resync": True})

    def fresh() -> list[ChatEvent]:
        return [e for e in state.events if e.seq > after and e.chat_id in (chat_id, 0)]

    await state.notifier.wait_until(lambda: bool(fresh()), timeout)
    chat = state.chats.get(chat_id)
    items = []
    for event in fresh():
        item = {"seq": event.seq, "kind": event.kind, "message_id": event.message_id, "data": event.data}
        if chat is not None and event.message_id is not None and event.kind in ("message", "edit", "delete"):
            item["message"] = chat_message_json(chat, event.message_id)
        items.append(item)
    keyboard = reply_keyboard(chat.reply_keyboard) if chat is not None else None
    return web.json_response(
        {"ok": True, "events": items, "last_seq": state.event_seq, "reply_keyboard": keyboard}
    )


@routes.get("/chat/api/commands")
async def commands(request: web.Request) -> web.Response:
    """The bot's command menu for ``?lang=``."""
    listed = commands_json(_engine(request).state, _language(request))
    return web.json_response({"ok": True, "commands": listed})
