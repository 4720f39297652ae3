"""What the web chat page draws, as JSON: messages with their text already turned into safe HTML.

Telegram sends plain text plus entities (UTF-16 offsets). We rebuild markup from them here, in Python,
so the page never interprets anything a bot wrote: every character of text and every attribute value is
escaped, only a fixed set of tags is produced, and links keep only http(s)/tg/mailto/tel targets.
The page inserts ``html`` fields as they are and builds everything else (button labels, file names,
invoice titles) with ``textContent``.
"""

from __future__ import annotations

import html
import itertools
import re
from typing import Any
from urllib.parse import urlsplit

from ..models import JSON, SimChat
from ..state import SimState
from ..views import MessageView, message_view

SAFE_SCHEMES = frozenset({"http", "https", "tg", "mailto", "tel"})
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#-]{1,32}")
_STYLE = re.compile(r"[a-z_]{1,20}")
_SNIPPET = 80


def escape(value: str) -> str:
    return html.escape(value, quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if a browser may follow it (no javascript:, data:, ...); None otherwise."""
    if not url:
        return None
    url = url.strip()
    if any(ord(char) < 32 for char in url):
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if not scheme and re.match(r"[\w-]+(\.[\w-]+)+", url):
        return f"http://{url}"  # "example.com" in a url entity
    return url if scheme in SAFE_SCHEMES else None


# ---- entities → HTML -----------------------------------------------------------------------------


def _utf16_to_index(text: str) -> list[int]:
    """For each UTF-16 offset (and the end), the Python index of the character it falls in."""
    index = []
    for position, char in enumerate(text):
        index.append(position)
        if ord(char) > 0xFFFF:
            index.append(position)  # the low surrogate: an offset here means the same character
    index.append(len(text))
    return index


def _tags(entity: JSON, covered: str) -> tuple[str, str]:
    """Opening and closing markup for one entity; ("", "") for kinds drawn as plain text."""
    kind = entity.get("type")
    simple = {"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "code": "code"}
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "spoiler":
        return '<span class="tg-spoiler" tabindex="0" title="Spoiler: click to reveal">', "</span>"
    if kind == "pre":
        language = str(entity.get("language") or "")
        if _LANGUAGE.fullmatch(language):
            return f'<pre><code class="language-{escape(language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind in ("blockquote", "expandable_blockquote"):
        extra = ' class="expandable"' if kind == "expandable_blockquote" else ""
        return f"<blockquote{extra}>", "</blockquote>"
    if kind in ("text_link", "url", "email", "phone_number"):
        target = {
            "text_link": entity.get("url"),
            "url": covered,
            "email": f"mailto:{covered}",
            "phone_number": f"tel:{covered}",
        }[kind]
        href = safe_url(target)
        if href is None:
            return '<span class="unsafe-link">', "</span>"
        return f'<a href="{escape(href)}" target="_blank" rel="noopener noreferrer">', "</a>"
    if kind == "bot_command":
        # Tapping a command in a bot's message sends it, as in Telegram.
        command = covered.split("@", 1)[0]
        return f'<a href="#" class="command" data-command="{escape(command)}">', "</a>"
    if kind in ("mention", "hashtag", "cashtag", "text_mention"):
        return f'<span class="{kind.replace("_", "-")}">', "</span>"
    return "", ""  # custom_emoji (its fallback text shows), unknown kinds


def render_html(text: str | None, entities: list[JSON] | None = None) -> str:
    """Telegram text + entities as safe HTML (newlines stay newlines: the page uses pre-wrap)."""
    if not text:
        return ""
    index = _utf16_to_index(text)
    limit = len(index) - 1
    spans: list[tuple[int, int, int, JSON]] = []
    for order, entity in enumerate(entities or []):
        try:
            start = index[min(max(int(entity["offset"]), 0), limit)]
            end = index[min(max(int(entity["offset"]) + int(entity["length"]), 0), limit)]
        except (KeyError, TypeError, ValueError):
            continue
        if end > start:
            spans.append((start, end, order, entity))
    # Outer entities first: earlier start, then longer. Overlaps that don't nest are closed and reopened.
    spans.sort(key=lambda span: (span[0], -span[1], span[2]))
    points = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    out: list[str] = []
    stack: list[tuple[int, int, int, JSON]] = []
    closers: dict[int, str] = {}
    for start, end in itertools.pairwise(points):
        active = [span for span in spans if span[0] <= start and span[1] >= end]
        keep = 0
        while keep < min(len(stack), len(active)) and stack[keep] is active[keep]:
            keep += 1
        for span in reversed(stack[keep:]):
            out.append(closers.pop(id(span)))
        for span in active[keep:]:
            opening, closing = _tags(span[3], text[span[0] : span[1]])
            out.append(opening)
            closers[id(span)] = closing
        stack = active
        out.append(escape(text[start:end]))
    out.extend(closers.pop(id(span)) for span in reversed(stack))
    return "".join(out)


# ---- messages ------------------------------------------------------------------------------------


def _button(button: JSON) -> JSON:
    text = str(button.get("text") or "")
    style = str(button.get("style") or "")
    out: JSON = {"text": text, "style": style if _STYLE.fullmatch(style) else ""}
    if "callback_data" in button:
        return {**out, "action": "callback", "data": str(button["callback_data"])}
    if button.get("pay"):
        return {**out, "action": "pay"}
    if "url" in button or "login_url" in button:
        raw = button.get("url") or (button.get("login_url") or {}).get("url")
        url = safe_url(str(raw or ""))
        return {**out, "action": "url", "url": url} if url else {**out, "action": "none"}
    if "copy_text" in button:
        return {**out, "action": "copy", "copy": str((button["copy_text"] or {}).get("text") or "")}
    if "web_app" in button:
        url = safe_url(str((button["web_app"] or {}).get("url") or ""))
        return {**out, "action": "url", "url": url} if url else {**out, "action": "none"}
    return {**out, "action": "none"}  # switch_inline_query, callback_game: not simulated


def inline_keyboard(reply_markup: JSON | None) -> list[list[JSON]]:
    rows = (reply_markup or {}).get("inline_keyboard") or []
    return [[_button(b) for b in row if isinstance(b, dict)] for row in rows if isinstance(row, list)]


def reply_keyboard(markup: JSON | None) -> JSON | None:
    """The custom keyboard the user sees under the input field; each button sends its text."""
    if not markup or "keyboard" not in markup:
        return None
    rows = [
        [str(b.get("text") if isinstance(b, dict) else b) for b in row]
        for row in markup.get("keyboard") or []
        if isinstance(row, list)
    ]
    return {
        "rows": rows,
        "placeholder": str(markup.get("input_field_placeholder") or ""),
        "one_time": bool(markup.get("one_time_keyboard")),
    }


def _service(view: MessageView) -> str | None:
    paid = view.extra.get("successful_payment")
    if paid:
        return f"You paid ⭐ {paid.get('total_amount')} (payload {paid.get('invoice_payload')!s})"
    refunded = view.extra.get("refunded_payment")
    if refunded:
        return f"Refunded ⭐ {refunded.get('total_amount')}"
    return None


def _snippet(view: MessageView) -> str:
    if view.text:
        text = view.text
    elif view.caption:
        text = view.caption
    elif view.media:
        text = {"photo": "Photo", "video": "Video", "audio": "Audio", "voice": "Voice message"}.get(
            view.media[0].kind, "File"
        )
    else:
        text = "Message"
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def message_json(view: MessageView, replied: MessageView | None = None) -> JSON:
    """One message as the page draws it. Media URLs are relative, so they work on any host/port."""
    is_caption = view.text is None
    invoice = view.extra.get("invoice")
    return {
        "message_id": view.message_id,
        "sender": view.sender,
        "date": view.date,
        "html": render_html(view.text, view.entities)
        if not is_caption
        else render_html(view.caption, view.caption_entities),
        "media": [
            {
                "kind": media.kind,
                "url": f"/_sim/files/{media.file_id}",
                "mime_type": media.mime_type,
                "file_name": media.file_name,
                "file_size": media.file_size,
                "width": media.width,
                "height": media.height,
                "duration": media.duration,
            }
            for media in view.media
        ],
        "buttons": inline_keyboard(view.reply_markup),
        "media_group_id": view.media_group_id,
        "reply_to": {"message_id": replied.message_id, "sender": replied.sender, "snippet": _snippet(replied)}
        if replied is not None
        else None,
        "invoice": {
            "title": str(invoice.get("title") or ""),
            "description": str(invoice.get("description") or ""),
            "currency": str(invoice.get("currency") or ""),
            "total_amount": invoice.get("total_amount"),
        }
        if invoice
        else None,
        "service": _service(view),
        "edited": view.edit_count > 0,
        "deleted": view.deleted,
    }


def chat_message_json(chat: SimChat, message_id: int) -> JSON | None:
    message = chat.messages.get(message_id)
    if message is None:
        return None
    reply = message.reply_to
    replied = message_view(reply, "") if reply is not None and not reply.deleted else None
    return message_json(message_view(message, ""), replied)


def transcript_json(state: SimState, chat_id: int) -> JSON:
    """Everything the page needs to draw a chat from scratch (an unknown chat is simply empty)."""
    chat = state.chats.get(chat_id)
    messages: list[Any] = []
    if chat is not None:
        messages = [chat_message_json(chat, mid) for mid, m in chat.messages.items() if not m.deleted]
    return {
        "chat_id": chat_id,
        "user": chat.user.to_api() if chat is not None and chat.user is not None else None,
        "messages": messages,
        "reply_keyboard": reply_keyboard(chat.reply_keyboard) if chat is not None else None,
        "last_seq": state.event_seq,
    }


def commands_json(state: SimState, language: str) -> list[JSON]:
    """The bot's command menu for a private chat in this language (setMyCommands), like Telegram's Menu."""
    default_scope = '{"type": "default"}'
    for scope in ('{"type": "all_private_chats"}', default_scope):
        for lang in (language, ""):
            commands = state.commands.get((scope, lang))
            if commands:
                return [
                    {"command": str(c["command"]), "description": str(c["description"])} for c in commands
                ]
    return []
