"""The /_sim control API: act as users, read transcripts and the call log, inject faults.

Everything answers JSON. Failing actions answer ``{"ok": false, "error": ...}`` with 400/404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from . import actions
from .actions import ActionError, Upload
from .engine import ENGINE, Engine
from .faults import ChaosRule, Fault
from .params import read_multipart
from .views import chat_view, message_view

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


def _ok(**body: Any) -> web.Response:
    return web.json_response({"ok": True, **body})


def _fail(error: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("a JSON object is expected")
    return body


def _user_id(request: web.Request) -> int:
    return int(request.match_info["user_id"])


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/_sim/"):
        return await handler(request)  # Bot API routes answer in Telegram's envelope themselves
    try:
        return await handler(request)
    except ActionError as error:
        return _fail(str(error), error.status)
    except (ValueError, KeyError, TypeError) as error:
        return _fail(f"bad request: {error}")


@routes.get("/_sim/health")
async def health(request: web.Request) -> web.Response:
    return _ok()


@routes.post("/_sim/reset")
async def reset(request: web.Request) -> web.Response:
    body = await _json(request)
    _engine(request).reset(body.get("seed"))
    return _ok()


# ---- users ---------------------------------------------------------------------------------------


@routes.get("/_sim/users")
async def list_users(request: web.Request) -> web.Response:
    users = _engine(request).state.users.values()
    return _ok(users=[{**user.to_api(), "blocked": user.blocked} for user in users])


@routes.put("/_sim/users/{user_id}")
async def put_user(request: web.Request) -> web.Response:
    """Create or update a user: first_name, last_name, username, language_code."""
    user = _engine(request).state.ensure_user(_user_id(request), **await _json(request))
    return _ok(user=user.to_api())


@routes.post("/_sim/users/{user_id}/message")
async def user_message(request: web.Request) -> web.Response:
    """JSON ``{"text"}`` or ``{"file_id", "kind"?, "caption"?}``; or multipart: a file, kind, caption."""
    state = _engine(request).state
    if request.content_type == "multipart/form-data":
        params = await read_multipart(await request.multipart())
        if not params.files:
            raise ActionError("multipart message without a file")
        upload = next(iter(params.files.values()))
        kind = params.get_str("kind")
        update = actions.send_message(
            state,
            _user_id(request),
            params.get_str("text"),
            upload=Upload(upload.data, upload.filename, kind),  # type: ignore[arg-type]
            caption=params.get_str("caption"),
        )
    else:
        body = await _json(request)
        update = actions.send_message(
            state,
            _user_id(request),
            body.get("text"),
            file_id=body.get("file_id"),
            kind=body.get("kind"),
            caption=body.get("caption"),
            reply_to_message_id=body.get("reply_to_message_id"),
            profile=body.get("user"),
        )
    return _ok(update=update, call_seq=state.call_seq)


@routes.post("/_sim/users/{user_id}/callback")
async def user_callback(request: web.Request) -> web.Response:
    """Press an inline button: ``{"message_id", "data", "force"?}`` (force: no such button needed)."""
    body = await _json(request)
    update = actions.press_button(
        _engine(request).state,
        _user_id(request),
        int(body["message_id"]),
        str(body["data"]),
        force=bool(body.get("force")),
    )
    return _ok(update=update, call_seq=_engine(request).state.call_seq)


@routes.post("/_sim/users/{user_id}/block")
async def block(request: web.Request) -> web.Response:
    actions.set_blocked(_engine(request).state, _user_id(request), True)
    return _ok()


@routes.post("/_sim/users/{user_id}/unblock")
async def unblock(request: web.Request) -> web.Response:
    actions.set_blocked(_engine(request).state, _user_id(request), False)
    return _ok()


@routes.post("/_sim/users/{user_id}/pay")
async def user_pay(request: web.Request) -> web.Response:
    """Pay an invoice: ``{"message_id"}`` or ``{"invoice_link"}``, plus ``"duplicates": n``."""
    body = await _json(request)
    update = actions.pay(
        _engine(request).state,
        _user_id(request),
        message_id=body.get("message_id"),
        invoice_link=body.get("invoice_link"),
        duplicates=int(body.get("duplicates") or 0),
    )
    return _ok(update=update, call_seq=_engine(request).state.call_seq)


@routes.post("/_sim/updates")
async def raw_update(request: web.Request) -> web.Response:
    """Any update: ``{"type": "edited_message", "payload": {...}, "force"?: true}`` (see actions.raw_update).

    Answers the update and ``call_seq``, the last Bot API call logged before it (calls after it may be the
    bot's answer).
    """
    body = await _json(request)
    state = _engine(request).state
    update = actions.raw_update(
        state, str(body.get("type") or ""), body.get("payload"), force=bool(body.get("force"))
    )
    return _ok(update=update, call_seq=state.call_seq)


# ---- chats, calls, updates, files ----------------------------------------------------------------


@routes.get("/_sim/chats")
async def list_chats(request: web.Request) -> web.Response:
    chats = _engine(request).state.chats.values()
    return _ok(chats=[{**chat.to_api(), "message_count": len(chat.messages)} for chat in chats])


@routes.get("/_sim/chats/{chat_id}")
async def get_chat(request: web.Request) -> web.Response:
    engine = _engine(request)
    chat = engine.state.chats.get(int(request.match_info["chat_id"]))
    if chat is None:
        return _fail("chat not found", 404)
    view = chat_view(chat, list(engine.state.callbacks.values()), engine.base_url)
    return _ok(chat=view.to_json())


@routes.get("/_sim/chats/{chat_id}/events")
async def chat_events(request: web.Request) -> web.Response:
    """Long poll: events after ``after`` (a seq), waiting up to ``timeout`` seconds for one."""
    engine = _engine(request)
    state = engine.state
    chat_id = int(request.match_info["chat_id"])
    after = int(request.query.get("after", 0))
    timeout = min(float(request.query.get("timeout", 25)), 60.0)

    def fresh() -> list[Any]:
        return [e for e in state.events if e.seq > after and e.chat_id in (chat_id, 0)]

    await state.notifier.wait_until(lambda: bool(fresh()), timeout)
    chat = state.chats.get(chat_id)
    events = []
    for event in fresh():
        item = asdict(event)
        message = chat.messages.get(event.message_id) if chat and event.message_id else None
        if message is not None:
            item["message"] = asdict(message_view(message, engine.base_url))
        events.append(item)
    return _ok(events=events, last_seq=state.event_seq)


@routes.get("/_sim/calls")
async def list_calls(request: web.Request) -> web.Response:
    """The call log; filters: ``method``, ``after`` (a seq)."""
    method = request.query.get("method", "").lower()
    after = int(request.query.get("after", 0))
    calls = [
        asdict(call)
        for call in _engine(request).state.calls
        if call.seq > after and (not method or call.method.lower() == method)
    ]
    return _ok(calls=calls)


@routes.get("/_sim/updates")
async def pending_updates(request: web.Request) -> web.Response:
    return _ok(updates=[update.to_api() for update in _engine(request).state.updates])


@routes.get("/_sim/webhook/deliveries")
async def webhook_deliveries(request: web.Request) -> web.Response:
    """Every webhook delivery attempt: update, chat lane, attempt, answer, the replica that answered;
    ``?update_id=N``: that update's only."""
    log = _engine(request).webhooks.log()
    if "update_id" in request.query:
        wanted = int(request.query["update_id"])
        log = [d for d in log if d["update_id"] == wanted]
    return _ok(deliveries=log)


@routes.get("/_sim/payments")
async def payments(request: web.Request) -> web.Response:
    state = _engine(request).state
    return _ok(
        payments=[{**asdict(p), "user": p.user.id} for p in state.payments.values()],
        transactions=state.star_transactions,
    )


@routes.get("/_sim/files/{file_id}")
async def file_bytes(request: web.Request) -> web.StreamResponse:
    state = _engine(request).state
    stored = state.files.get(request.match_info["file_id"])
    data = state.file_bytes(stored) if stored else None
    if stored is None or data is None:
        return _fail("file not found", 404)
    return web.Response(body=data, content_type=stored.mime_type)


# ---- faults --------------------------------------------------------------------------------------


@routes.get("/_sim/faults")
async def list_faults(request: web.Request) -> web.Response:
    return _ok(**_engine(request).faults.describe())


@routes.post("/_sim/faults")
async def queue_faults(request: web.Request) -> web.Response:
    """One fault (``{"error_code": 429, "retry_after": 3, "method": "sendPhoto"}``) or ``{"faults": []}``."""
    body = await _json(request)
    faults = [Fault.from_json(item) for item in body.get("faults", [body])]
    for fault in faults:
        _engine(request).faults.queue(fault)
    return _ok(queued=len(faults))


@routes.post("/_sim/faults/chaos")
async def set_chaos(request: web.Request) -> web.Response:
    """``{"seed": 1, "methods": [...]?, "rules": [{"share": 0.1, "error_code": 429, "retry_after": 1}]}``."""
    body = await _json(request)
    rules = [ChaosRule(float(rule["share"]), Fault.from_json(rule)) for rule in body.get("rules", [])]
    _engine(request).faults.set_chaos(rules, body.get("seed"), body.get("methods"))
    return _ok()


@routes.delete("/_sim/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _engine(request).faults.clear()
    return _ok()


MIDDLEWARES = (_errors,)
