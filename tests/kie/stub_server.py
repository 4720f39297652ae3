"""A tiny aiohttp server that answers each (method, path) with one of KIE's documented bodies and records
what it was sent, and a KieClient pointed at it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from kie.client import KieClient

API_KEY = "sk-test-0123456789abcdef"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    raw: str | None = None  # sent verbatim instead of JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Stub:
    """Answers each (method, path) with a canned reply and records what it was sent."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], Reply] = {}
        self.seen: list[Seen] = []
        self.url = ""

    def on(self, method: str, path: str, reply: Reply) -> None:
        self.replies[(method, path)] = reply

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers))
        if request.content_type == "multipart/form-data":
            for name, value in (await request.post()).items():
                seen.form[name] = (
                    value
                    if isinstance(value, str)
                    else (value.filename, value.content_type, value.file.read())
                )
        elif request.can_read_body:
            seen.json = await request.json()
        self.seen.append(seen)
        reply = self.replies.get((request.method, request.path), Reply(404, {"code": 404, "msg": "no route"}))
        await asyncio.sleep(reply.delay)
        text = reply.raw if reply.raw is not None else json.dumps(reply.body)
        content_type = "text/html" if reply.raw is not None else "application/json"
        return web.Response(status=reply.status, text=text, content_type=content_type, headers=reply.headers)


def make_client(session: aiohttp.ClientSession, url: str, **options: Any) -> KieClient:
    # Uploads live on another host at KIE; a path prefix proves the client uses upload_base_url for them.
    return KieClient(
        session, base_url=url + "/", upload_base_url=url + "/uploads", api_key=API_KEY, timeout=2.0, **options
    )
